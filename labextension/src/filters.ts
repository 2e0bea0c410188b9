/** Pure helpers for the audit filters and the lineage search (unit tested). */
import { LineageData, LineageNode } from './types';

export interface AuditFilters {
  actor: string;
  action: string;
  object_type: string;
  since: string;
  until: string;
}

export const EMPTY_FILTERS: AuditFilters = {
  actor: '',
  action: '',
  object_type: '',
  since: '',
  until: ''
};

/**
 * Query parameters for /audit: trimmed, empty ones dropped; a bare date for
 * "until" means the end of that day (inclusive), as a reader expects.
 */
export function auditQuery(
  filters: AuditFilters,
  limit: number,
  offset: number
): Record<string, string | number> {
  const query: Record<string, string | number> = { limit, offset };
  for (const [key, raw] of Object.entries(filters)) {
    const value = raw.trim();
    if (!value) {
      continue;
    }
    if (key === 'until' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
      query[key] = `${value}T23:59:59.999999+00:00`;
    } else {
      query[key] = value;
    }
  }
  return query;
}

/** Kind of a node for styling: dataset, model, report, result, cell or other. */
export function nodeClass(node: LineageNode): string {
  if (node.type === 'activity') {
    return node.kind.startsWith('report') ? 'report-run' : 'cell';
  }
  const kind = node.kind.toLowerCase();
  for (const known of ['dataset', 'model', 'report', 'result']) {
    if (kind.startsWith(known)) {
      return known;
    }
  }
  return 'entity';
}

/** Nodes matching a search text (label, kind, fingerprint, location, column names). */
export function matchNodes(data: LineageData, text: string): Set<string> {
  const needle = text.trim().toLowerCase();
  const found = new Set<string>();
  if (!needle) {
    return found;
  }
  for (const node of data.nodes) {
    const hay = [
      node.label,
      node.kind,
      node.fingerprint ?? '',
      node.location ?? '',
      ...(node.columns ?? []).map(c => c.name)
    ]
      .join('\n')
      .toLowerCase();
    if (hay.includes(needle)) {
      found.add(node.id);
    }
  }
  return found;
}

/** A short, stable signature of a graph: the panel redraws only when it changes. */
export function graphSignature(data: LineageData): string {
  return `${data.nodes.length}:${data.edges.length}:${data.nodes
    .map(n => n.id)
    .sort()
    .join(',')}`;
}

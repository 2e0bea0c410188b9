/**
 * The audit trail grouped by activity (pure, unit tested): consecutive records the
 * server assigned to one activity (a tracked cell, a report run) form one block
 * under that activity's name; a record of no activity stands alone.
 */
import { AuditGroup, AuditRecord } from './types';

export interface RecordBlock {
  /** the activity's key, or '' for a record of no activity */
  key: string;
  group: AuditGroup | null;
  records: AuditRecord[];
}

export function groupRecords(
  records: AuditRecord[],
  groups: Record<string, AuditGroup> = {}
): RecordBlock[] {
  const blocks: RecordBlock[] = [];
  for (const record of records) {
    const key = record.group ?? '';
    const last = blocks[blocks.length - 1];
    if (key && last && last.key === key) {
      last.records.push(record);
    } else {
      blocks.push({ key, group: key ? groups[key] ?? null : null, records: [record] });
    }
  }
  return blocks;
}

/** The heading of a block: the activity's name, where and when it ran, how many records. */
export function blockHeading(block: RecordBlock): { title: string; detail: string } {
  const group = block.group;
  const count = `${block.records.length} record${block.records.length === 1 ? '' : 's'}`;
  if (!group) {
    return { title: block.key ? `activity ${block.key.slice(0, 16)}` : '', detail: count };
  }
  const where = group.notebook ? group.notebook.split('/').pop() ?? group.notebook : '';
  const detail = [where, group.started ? group.started.slice(0, 19).replace('T', ' ') : '',
    group.status ?? '', count].filter(Boolean).join(' · ');
  return { title: group.label, detail };
}

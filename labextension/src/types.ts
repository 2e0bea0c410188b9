/** Shapes of the JSON the cmlops server extension returns (see src/cmlops/server). */

export interface Column {
  name: string;
  dtype: string;
}

export interface LineageNode {
  id: string;
  type: 'entity' | 'activity';
  kind: string;
  label: string;
  fingerprint?: string;
  location?: string;
  rows?: number | null;
  columns?: Column[];
  code?: string;
  notebook?: string;
  started?: string;
  ended?: string;
  status?: string;
  error?: string;
  /** a model's class and hyper-parameters (value as JSON text) as the capture recorded them */
  model?: { class: string; params: [string, string][] } | null;
  who: string;
  when: string;
}

export interface LineageEdge {
  source: string;
  target: string;
  relation: 'used' | 'generated' | 'derived' | string;
  role?: string;
}

export interface LineageData {
  nodes: LineageNode[];
  edges: LineageEdge[];
  truncated?: boolean;
  head_seq?: number;
}

export interface AuditRecord {
  seq: number;
  ts: string;
  actor: string;
  action: string;
  object_type: string;
  object_id: string;
  payload: unknown;
  reason: string;
  prev_hash: string;
  hash: string;
  /** what the record is about, in names (the server's reading of ids and payload) */
  label?: string;
  /** the activity (cell, report run) the record belongs to; '' for none */
  group?: string;
}

export interface AuditGroup {
  label: string;
  kind: string;
  notebook?: string;
  status?: string;
  started?: string;
}

export interface AuditPage {
  records: AuditRecord[];
  groups?: Record<string, AuditGroup>;
  total: number;
  limit: number;
  offset: number;
}

export interface VerifyResult {
  ok: boolean;
  /** "full" (from seq 1) or "incremental" (after the head verified last, ``verified_from``) */
  mode: 'full' | 'incremental';
  verified_from: { seq: number; hash: string } | null;
  records: number;
  head: { seq: number; hash: string } | null;
  broken: { seq: number; reason: string; record: AuditRecord | null } | null;
  warnings: string[];
  summary: string;
}

export interface ParamSpec {
  name: string;
  type: 'str' | 'int' | 'float' | 'bool' | 'path' | 'dataset' | 'list' | string;
  required: boolean;
  default: unknown;
  description: string;
  choices?: unknown[];
}

export interface Template {
  name: string;
  title: string;
  description: string;
  sha256: string;
  parameters: ParamSpec[];
  /** the plan a run uses when the form names none */
  default_plan?: {
    plan_id?: string;
    criteria: { id: string; metric: string; subgroup?: string | null; op: string; threshold: number }[];
  } | null;
}

export interface Run {
  id: string;
  template: string;
  parameters: Record<string, unknown>;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | string;
  progress: number;
  message: string;
  started: string;
  ended: string;
  package_id: string;
  error: string;
  verified: boolean | null;
  /** the acceptance plan's id, or "template default" */
  plan?: string;
  /** the plan's verdict once the package exists: PASS, FAIL or NOT EVALUATED */
  verdict?: string;
}

export interface PackageInfo {
  id: string;
  modified: number;
  files: number;
  /** the read-only views the package offers ('report', 'notebook') */
  views: string[];
  /** verified as the package is now (recomputed by the server on each listing) */
  verified: boolean | null;
  /** the run's status from the manifest: EXECUTED, FAILED or ABORTED */
  status: string;
  /** the first verification finding, when it fails */
  problem: string;
  /** the plan's verdict the manifest states: PASS, FAIL or NOT EVALUATED ('' if none) */
  verdict?: string;
}

/** One entry of the file picker (a path relative to the Jupyter root, never absolute). */
export interface FileEntry {
  name: string;
  path: string;
  type: 'folder' | 'file';
  size: number | null;
  modified: number;
}

export interface FolderListing {
  folder: string;
  parent: string | null;
  kind: 'any' | 'plan';
  entries: FileEntry[];
  truncated: boolean;
}

/** How a run names its plan: a file under the root, or an upload the server kept. */
export type PlanRef = { path: string } | { upload: string };

/** A plan the server checked (uploaded or picked). */
export interface PlanSummary {
  ref: PlanRef;
  name: string;
  plan_id: string;
  title: string;
  criteria: { id: string; metric: string; subgroup?: string | null; op: string; threshold: number }[];
  sha256: string;
  raw_sha256: string;
}

export interface StoreAdvice {
  kind?: string;
  message: string;
  fix?: string;
  /** a form's errors, by field name */
  fields?: Record<string, string>;
}

export interface StatusInfo {
  version: string;
  poll_seconds: number;
  store: { records: number; head: { seq: number; hash: string } | null } | null;
  error: StoreAdvice | null;
}

export interface ModelSummary {
  name: string;
  description: string;
  protocol: string | null;
  versions: { version: number; status: string }[];
}

export interface ModelList {
  models: ModelSummary[];
}

export interface ModelVersion {
  version: number;
  status: string;
  entity_id: string;
  class: string;
  training_data: { name: string; entity_id: string; rows: number | null }[];
  gaps: string[];
  change: { scope: string; modification: string | null; reasons: string[] | null };
  registered: { seq: number; ts: string; actor: string };
  validation: { package_id: string; validation: string; verdict: string; ts: string; actor: string } | null;
  approval: { package_id: string; ts: string; actor: string } | null;
  retirement: { ts: string; actor: string; reason: string } | null;
}

export interface ModelDetail {
  name: string;
  description: string;
  protocol: { protocol_id: string; sha256: string; ts: string; actor: string } | null;
  versions: ModelVersion[];
  history: { seq: number; ts: string; actor: string; action: string; reason: string; version: number | null }[];
}

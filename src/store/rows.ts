// The store's row types as the rest of switchyard sees them (camelCase, parsed JSON), the raw SQLite rows
// (snake_case, JSON as TEXT), and the mapping between the two. Times are ISO-8601 UTC strings with ms.

export type InstanceState = 'starting' | 'ready' | 'draining' | 'stopped' | 'failed';
export type DeploymentState =
  | 'pending'
  | 'progressing'
  | 'paused'
  | 'succeeded'
  | 'rolling-back'
  | 'rolled-back'
  | 'failed';
export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'undone' | 'skipped';

/** The resolved run spec of a release: a local process, or addresses of instances run elsewhere. */
export type ReleaseSpec =
  | { kind: 'process'; command: string | string[]; cwd: string; env: Record<string, string> }
  | { kind: 'static'; targets: string[] };

export interface ReleaseRow {
  id: number;
  service: string;
  /** 1, 2, 3… per service. */
  number: number;
  /** The version label; the same label may be released again under a new number. */
  version: string;
  spec: ReleaseSpec;
  createdAt: string;
}

export interface InstanceRow {
  id: string;
  service: string;
  releaseId: number;
  ordinal: number;
  address: string | null;
  pid: number | null;
  state: InstanceState;
  restarts: number;
  /** The cluster host it runs on; null on a single host. */
  node: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DeploymentRow {
  id: number;
  service: string;
  fromReleaseId: number | null;
  toReleaseId: number;
  strategy: string;
  kind: 'deploy' | 'rollback';
  state: DeploymentState;
  /** Why it ended as it did (or paused), in words for the user. */
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface StepRow {
  deploymentId: number;
  /** 0-based position in the plan. */
  index: number;
  kind: string;
  params: unknown;
  state: StepState;
  detail: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** How to undo what the step did (or is doing), as data; null while there is nothing to undo. */
  undo: unknown;
}

export interface EventRow {
  id: number;
  time: string;
  service: string | null;
  deploymentId: number | null;
  instanceId: string | null;
  type: string;
  message: string;
  /** Structured detail; null when the event had none. */
  data: unknown;
}

export interface NewEvent {
  service?: string | null;
  deploymentId?: number | null;
  instanceId?: string | null;
  type: string;
  message: string;
  data?: unknown;
}

export interface ReleaseRecord {
  id: number;
  service: string;
  number: number;
  version: string;
  spec: string;
  created_at: string;
}

export interface InstanceRecord {
  id: string;
  service: string;
  release_id: number;
  ordinal: number;
  address: string | null;
  pid: number | null;
  state: InstanceState;
  restarts: number;
  node: string | null;
  created_at: string;
  updated_at: string;
}

export interface DeploymentRecord {
  id: number;
  service: string;
  from_release_id: number | null;
  to_release_id: number;
  strategy: string;
  kind: 'deploy' | 'rollback';
  state: DeploymentState;
  reason: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface StepRecord {
  deployment_id: number;
  step_index: number;
  kind: string;
  params: string;
  state: StepState;
  detail: string | null;
  started_at: string | null;
  finished_at: string | null;
  undo: string | null;
}

export interface EventRecord {
  id: number;
  time: string;
  service: string | null;
  deployment_id: number | null;
  instance_id: string | null;
  type: string;
  message: string;
  data: string | null;
}

/** Now, as stored: `2025-01-31T12:00:00.000Z`. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** JSON text for a JSON column; `undefined` is stored as `null`. */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

export function releaseFromRecord(r: ReleaseRecord): ReleaseRow {
  return {
    id: r.id,
    service: r.service,
    number: r.number,
    version: r.version,
    spec: fromJson(r.spec) as ReleaseSpec,
    createdAt: r.created_at,
  };
}

export function instanceFromRecord(r: InstanceRecord): InstanceRow {
  return {
    id: r.id,
    service: r.service,
    releaseId: r.release_id,
    ordinal: r.ordinal,
    address: r.address,
    pid: r.pid,
    state: r.state,
    restarts: r.restarts,
    node: r.node ?? null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function deploymentFromRecord(r: DeploymentRecord): DeploymentRow {
  return {
    id: r.id,
    service: r.service,
    fromReleaseId: r.from_release_id,
    toReleaseId: r.to_release_id,
    strategy: r.strategy,
    kind: r.kind,
    state: r.state,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

export function stepFromRecord(r: StepRecord): StepRow {
  return {
    deploymentId: r.deployment_id,
    index: r.step_index,
    kind: r.kind,
    params: fromJson(r.params),
    state: r.state,
    detail: r.detail,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    undo: fromJson(r.undo),
  };
}

export function eventFromRecord(r: EventRecord): EventRow {
  return {
    id: r.id,
    time: r.time,
    service: r.service,
    deploymentId: r.deployment_id,
    instanceId: r.instance_id,
    type: r.type,
    message: r.message,
    data: fromJson(r.data),
  };
}

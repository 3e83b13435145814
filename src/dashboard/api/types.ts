// The admin API's JSON as the dashboard reads it (the views in src/api/views.ts and
// src/api/timeseries-view.ts). Kept here, not imported, so the browser bundle pulls in no server code.

export type DeploymentState = 'pending' | 'progressing' | 'paused' | 'succeeded' | 'rolling-back' | 'rolled-back' | 'failed';

export interface InstanceView {
  id: string;
  state: string;
  healthy: boolean;
  ejected: boolean;
  inRotation: boolean;
  inFlight: number;
  restarts: number;
  address: string;
  pid: number | null;
}

export interface ReleaseView {
  number: number;
  version: string;
  role: 'stable' | 'target' | 'standby' | 'other';
  /** Percent of unpinned traffic. */
  traffic: number;
  instances: InstanceView[];
}

export interface StepView {
  index: number;
  kind: string;
  description: string;
  state: string;
  detail: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface SideStats {
  requests: number;
  errors: number;
  /** A fraction, 0-1. */
  errorRate: number;
  p50Ms: number;
  p99Ms: number;
}

export interface Verdict {
  outcome: 'pass' | 'fail' | 'inconclusive';
  summary: string;
  canary: SideStats;
  baseline: SideStats;
  checks: { name: string; outcome: string; detail: string }[];
}

export interface VerdictView {
  time: string;
  type: string;
  message: string;
  verdict: Verdict | null;
}

export interface ReleaseRef {
  number: number;
  version: string;
}

export interface DeploymentView {
  id: number;
  service: string;
  kind: 'deploy' | 'rollback';
  strategy: string;
  state: DeploymentState;
  reason: string | null;
  from: ReleaseRef | null;
  to: ReleaseRef | null;
  createdAt: string;
  finishedAt: string | null;
  durationMs: number;
  currentStep: number;
  verdicts?: VerdictView[];
  steps: StepView[];
}

export interface EventView {
  id: number;
  time: string;
  service: string | null;
  deploymentId: number | null;
  instanceId: string | null;
  type: string;
  message: string;
  data: unknown;
}

export interface DeploymentDetail extends DeploymentView {
  events: EventView[];
}

export interface ServiceView {
  name: string;
  kind: 'static' | 'process';
  stable: ReleaseRef | null;
  instancesWanted: number;
  releases: ReleaseView[];
  preview: { header: string; value: string } | null;
  deployment: DeploymentView | null;
  standby: { version: string; number: number; until: string } | null;
}

export interface ReleaseSeries {
  name: string;
  number: number | null;
  version: string;
  role: 'stable' | 'target' | 'other';
  requests: number[];
  errorRate: (number | null)[];
  p50: (number | null)[];
  p99: (number | null)[];
}

export interface TimeseriesView {
  service: string;
  seconds: number[];
  releases: ReleaseSeries[];
  instances: { id: string; requestsPerSecond: number }[];
}

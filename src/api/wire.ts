// What crosses the admin API's boundary, declared once: the JSON the API answers with, as the API builds
// it (src/api/views.ts), the CLI reads it and the dashboard draws it. Types only: esbuild erases
// `import type`, so the browser bundle pulls in no server code.

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
  /** How long a pause or analysis step waits once started; null until promoted; absent for other steps. */
  waitMs?: number | null;
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
  verdicts: VerdictView[];
  steps: StepView[];
  /** What the failing instance or hook printed last; empty unless it failed. */
  failureOutput: string[];
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

/** How the service's last finished deployment ended, and whether a person has seen a bad ending. */
export interface LastDeploymentView {
  id: number;
  kind: 'deploy' | 'rollback';
  strategy: string;
  state: DeploymentState;
  reason: string | null;
  from: ReleaseRef | null;
  to: ReleaseRef | null;
  finishedAt: string | null;
  failureOutput: string[];
  /** A failed or rolled-back deployment stays flagged until acknowledged (or a newer one supersedes it). */
  acknowledged: boolean;
}

export interface ServiceView {
  name: string;
  kind: 'static' | 'process';
  /** The configured strategy, used when a deploy names none. */
  strategy: string;
  stable: ReleaseRef | null;
  instancesWanted: number;
  releases: ReleaseView[];
  preview: { header: string; value: string } | null;
  deployment: DeploymentView | null;
  /** The newest finished deployment, while none is running; null when there is none. */
  lastDeployment: LastDeploymentView | null;
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

/** One endpoint of a release as the data plane routes by it. */
export interface RoutingEndpointView {
  id: string;
  address: string;
  /** Its health check passes (invariant 1). */
  healthy: boolean;
  /** Out of rotation for good: it only finishes what it has. */
  draining: boolean;
  /** New requests may go here now: healthy, not draining, not ejected. */
  available: boolean;
  /** Requests and WebSockets in flight on it. */
  inFlight: number;
}

export interface RoutingReleaseView {
  name: string;
  /** Share of unpinned traffic, 0-100. */
  weight: number;
  endpoints: RoutingEndpointView[];
}

/** One proxy process's routing table, with its version. */
export interface WorkerRoutingView {
  version: number;
  services: Record<string, { releases: RoutingReleaseView[] }>;
}

/**
 * `GET /api/v1/routing`: the routing tables the proxies route by now. `version` and `services` are the
 * table in force (the oldest any proxy has); `workers` has each proxy's own.
 */
export interface RoutingView extends WorkerRoutingView {
  workers: (WorkerRoutingView & { index: number })[];
}

/** What a reload changed, by when it takes effect (config paths). */
export interface ReloadSummary {
  /** In force as the reload returns. */
  now: string[];
  /** Read when a deployment starts or instances start: the running ones keep what they had. */
  nextDeploy: string[];
  /** Read only at start-up: in force after `switchyard upgrade`. */
  restart: string[];
}

/** `POST /api/v1/reload`: what changed, or why the file was refused (and nothing changed). */
export type ReloadView = ({ ok: true } & ReloadSummary) | { ok: false; problems: string };

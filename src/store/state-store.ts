// The store as the rest of switchyard uses it: one interface, two implementations. SqliteStore (one file
// per host, the embedded default) and EtcdStore (a cluster's desired state in etcd, read from a local
// mirror). Reads are synchronous; a write is in force locally at once, and durable once `flush` resolves.
import type { DeploymentPatch, NewDeployment } from './deployments.js';
import type { EventFilter } from './events.js';
import type { InstanceFilter, InstancePatch, NewInstance } from './instances.js';
import type { RollbackWindowEnd } from './rollback-windows.js';
import type { DeploymentRow, EventRow, InstanceRow, NewEvent, ReleaseRow, ReleaseSpec, StepRow } from './rows.js';
import type { StoredRouting, StoredStandby } from './routing.js';
import type { StepPatch } from './steps.js';
import type { EventListener } from './subscribers.js';

export interface Store {
  /** Where the state lives, for messages: the database file, or the etcd endpoints and prefix. */
  readonly path: string;

  // services
  /** Records the service if it is new; a no-op otherwise. */
  ensureService(name: string): void;
  stableRelease(service: string): ReleaseRow | undefined;
  /** The release must belong to the service (else SY_ERR_STATE_NOT_FOUND). */
  setStableRelease(service: string, releaseId: number): void;
  /** The instance count `scale` set for a service (kept across restarts), or null for the config's. */
  scaledInstances(service: string): number | null;
  setScaledInstances(service: string, count: number | null): void;
  /** Forgets the stable release (undoing a first deployment's promote). */
  clearStableRelease(service: string): void;
  /** By name. */
  listServices(): { name: string; stableReleaseId: number | null }[];
  /** The service's traffic split by instance id, as last published (written before it goes out). */
  setRouting(service: string, routing: StoredRouting): void;
  routing(service: string): StoredRouting | null;
  setStandby(service: string, standby: StoredStandby | null): void;
  standby(service: string): StoredStandby | null;

  // releases
  /** Adds the service's next release (numbered from 1), recording the service too if it is new. */
  createRelease(service: string, version: string, spec: ReleaseSpec): ReleaseRow;
  release(id: number): ReleaseRow | undefined;
  /** Newest first. */
  releases(service: string): ReleaseRow[];
  /** The highest-numbered release with this version label. */
  latestReleaseByVersion(service: string, version: string): ReleaseRow | undefined;

  // rollback windows
  /** True when this call recorded the end; false when it was recorded before (the first reason stays). */
  endRollbackWindow(service: string, releaseId: number, reason: string): boolean;
  reopenRollbackWindow(releaseId: number): void;
  /** The releases past which a rollback needs force, newest first. */
  rollbackWindowEnds(service: string): RollbackWindowEnd[];

  // instances
  createInstance(row: NewInstance): InstanceRow;
  /** Changes only the fields present in `patch` (null clears address or pid); bumps updatedAt. */
  updateInstance(id: string, patch: InstancePatch): InstanceRow;
  instance(id: string): InstanceRow | undefined;
  /** All instances matching every given criterion, by release then ordinal. */
  instances(filter?: InstanceFilter): InstanceRow[];
  /** Max ordinal + 1 among the service's releases with this release's version label, starting at 1. */
  nextInstanceOrdinal(releaseId: number): number;

  // deployments and steps
  createDeployment(row: NewDeployment): DeploymentRow;
  /** Changes only the fields present in `patch`; bumps updatedAt. */
  updateDeployment(id: number, patch: DeploymentPatch): DeploymentRow;
  deployment(id: number): DeploymentRow | undefined;
  /** Newest first; all of them unless `limit` is given. */
  deployments(service: string, limit?: number): DeploymentRow[];
  /** Deployments pending, progressing, paused or rolling back, oldest first. */
  activeDeployments(): DeploymentRow[];
  /** Replaces the deployment's plan; all steps pending, indexed from 0. */
  saveSteps(deploymentId: number, steps: { kind: string; params: unknown }[]): void;
  updateStep(deploymentId: number, index: number, patch: StepPatch): void;
  /** In plan order. */
  steps(deploymentId: number): StepRow[];

  // events
  /** Records an event; subscribers hear of it once it is stored (SQLite: at once; etcd: when it is back from etcd). */
  addEvent(event: NewEvent): void;
  /** Oldest first: those after `afterId`, or else the last `limit` (default 500). */
  events(filter?: EventFilter): EventRow[];
  /** Calls `listener` with every event stored from now on; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void;

  // misc
  /** Runs `fn` (synchronous) as one transaction: all its writes take effect together, or none if it throws. */
  transaction<T>(fn: () => T): T;
  /**
   * Resolves once every write made so far is durable (SQLite: already, each write is fsynced; etcd: once
   * etcd committed it). Rejects with SY_ERR_FENCED when this writer lost the right to write.
   */
  flush(): Promise<void>;
  /** Closes the store; it cannot be used afterwards. Safe to call twice. */
  close(): void;
}

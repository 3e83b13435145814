// The store's public face: switchyard's state and history behind one interface (Store), kept in SQLite
// on one host (SqliteStore) or in etcd for a cluster (EtcdStore).
export type { Store } from './state-store.js';
export { SqliteStore } from './store.js';
export { StoreError } from './errors.js';
export { instancesForLogs } from './read-only.js';
export type { InstanceFileRow } from './read-only.js';
export type { StoreErrorCode } from './errors.js';
export { ACTIVE_DEPLOYMENT_STATES } from './deployments.js';
export type { DeploymentPatch, NewDeployment } from './deployments.js';
export { DEFAULT_EVENT_LIMIT } from './events.js';
export type { EventFilter } from './events.js';
export type { InstanceFilter, InstancePatch, NewInstance } from './instances.js';
export type { RollbackWindowEnd } from './rollback-windows.js';
export type { StepPatch } from './steps.js';
export type { StoredRouting, StoredStandby } from './routing.js';
export type { EventListener } from './subscribers.js';
export { MIGRATIONS } from './migrations.js';
export type {
  DeploymentRow,
  DeploymentState,
  EventRow,
  InstanceRow,
  InstanceState,
  NewEvent,
  ReleaseRow,
  ReleaseSpec,
  StepRow,
  StepState,
} from './rows.js';

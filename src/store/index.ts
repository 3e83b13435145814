// The store's public face: SQLite persistence of switchyard's state and history.
export { Store } from './store.js';
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

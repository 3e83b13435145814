// The rollback window: a rollback may not go back past a release for which a hook marked
// `endsRollbackWindow` ran (e.g. a contract migration that dropped a column older code reads).
import type { Store } from '../store/index.js';
import { DeployError } from './errors.js';

/**
 * Throws `rollback_window_ended` when a release numbered above `toNumber` and up to `fromNumber` ended
 * the rollback window: going from the latter back to the former would cross it.
 */
export function refusePastWindow(store: Store, service: string, toNumber: number, fromNumber: number, toVersion: string): void {
  const crossed = store.rollbackWindowEnds(service).find((end) => end.releaseNumber > toNumber && end.releaseNumber <= fromNumber);
  if (crossed === undefined) return;
  throw new DeployError(
    'rollback_window_ended',
    `${service} cannot roll back to ${toVersion}: ${crossed.reason}, and older releases may not work with what it changed. ` +
      'Roll back anyway with --force (API: "force": true), or deploy a fix forward',
    'force',
  );
}

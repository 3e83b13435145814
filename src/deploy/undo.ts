// How to undo a step, as data: written to the store before the step acts, so a rollback (by this
// controller, or by one that takes over after a crash or an upgrade) knows exactly what to reverse.
import type { ReleaseRole, RotationCount, Weights } from './steps.js';

/** A service's split as a route step found it. */
export interface RouteSnapshot {
  rotation: { target: RotationCount; stable: RotationCount };
  weights: Weights;
  preview: boolean;
  testers: boolean;
}

export type UndoAction =
  /** A start step: stop the instances it started (ids reserved before they started). */
  | { kind: 'stop-instances'; instances: string[] }
  /** A route step: restore the split it found. */
  | { kind: 'route'; before: RouteSnapshot }
  /** A stop step: start as many instances of the release again as it stopped. */
  | { kind: 'start-instances'; role: ReleaseRole; instances: string[] }
  /** A promote step: make the previous release stable again (null: there was none). */
  | { kind: 'set-stable'; releaseId: number | null };

export function describeUndo(action: UndoAction): string {
  switch (action.kind) {
    case 'stop-instances':
      return `stop the ${action.instances.length} started instance${action.instances.length === 1 ? '' : 's'}`;
    case 'route':
      return 'restore the previous traffic split';
    case 'start-instances':
      return `start ${action.instances.length} ${action.role} instance${action.instances.length === 1 ? '' : 's'} again`;
    case 'set-stable':
      return 'make the previous release stable again';
  }
}

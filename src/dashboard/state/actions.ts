// Which controls a service offers right now: only what the deployment's phase allows, so a button never
// leads to "not possible". Mirrors the controller's rules (src/deploy/deployment-run.ts).
import type { DeploymentDetail, DeploymentView, ServiceView } from '../api/types.js';

export type Action = 'promote' | 'promote-full' | 'pause' | 'resume' | 'abort' | 'rollback';

/** Button labels, also used in messages. */
export const LABELS: Record<Action, string> = {
  promote: 'Promote',
  'promote-full': 'Promote fully',
  pause: 'Pause',
  resume: 'Resume',
  abort: 'Abort',
  rollback: 'Roll back',
};

/** Destructive or safety-skipping actions ask first. */
export const CONFIRMED: ReadonlySet<Action> = new Set(['abort', 'rollback', 'promote-full']);

/**
 * @example
 * possibleActions(service, detail, history) // ['promote', 'promote-full', 'abort'] at a canary pause
 */
export function possibleActions(service: ServiceView, detail: DeploymentDetail | null, history: readonly DeploymentView[]): Action[] {
  const d = service.deployment;
  if (d === null) return rollbackTarget(service, history) === null ? [] : ['rollback'];
  if (d.state === 'pending') return ['abort'];
  if (d.state !== 'progressing' && d.state !== 'paused') return [];
  const step = d.steps[d.currentStep];
  const waiting = step !== undefined && step.state === 'running' && (step.kind === 'pause' || step.kind === 'analysis');
  if (d.state === 'progressing') return [...(waiting ? (['promote'] as const) : []), 'promote-full', 'pause', 'abort'];
  return pausedByUser(d, detail, waiting) ? ['resume', 'abort'] : ['promote', 'promote-full', 'abort'];
}

/** The version a rollback would return to: the standby fleet, or the release before the stable one. */
export function rollbackTarget(service: ServiceView, history: readonly DeploymentView[]): string | null {
  if (service.standby !== null) return service.standby.version;
  const stable = service.stable;
  if (stable === null) return null;
  const last = history.find((h) => h.state === 'succeeded' && h.to?.number === stable.number && h.from !== null);
  return last?.from?.version ?? null;
}

/** A person's pause (resume continues it) rather than a pause step (promote continues it). */
function pausedByUser(d: DeploymentView, detail: DeploymentDetail | null, waiting: boolean): boolean {
  if (detail?.id === d.id) {
    const last = detail.events.findLast((e) => e.type === 'deployment.paused');
    if (last !== undefined) return last.message === 'paused by user';
  }
  return !waiting;
}

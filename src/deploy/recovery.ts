// Settling a deployment that cannot go on (the daemon is stopping and every instance with it, or its
// service left the config): its state says how it ended, as it is, with the reason.
import type { DeploymentRow, Store } from '../store/index.js';

export function settleInterrupted(store: Store, deployment: DeploymentRow, why: string): void {
  const now = new Date().toISOString();
  // Past its promote step the new release is already stable: what was left was stopping the old one.
  const promoted = store.stableRelease(deployment.service)?.id === deployment.toReleaseId;
  for (const step of store.steps(deployment.id)) {
    if (step.state === 'running') store.updateStep(deployment.id, step.index, { state: 'failed', detail: `interrupted: ${why}`, finishedAt: now });
    else if (step.state === 'pending') store.updateStep(deployment.id, step.index, { state: 'skipped', detail: `not run: ${why}`, finishedAt: now });
  }
  const state = promoted ? 'succeeded' : 'rolled-back';
  const reason = promoted
    ? `${why}, after the new release became stable (it was ${deployment.state}); it is what serves from now on`
    : `${why} (it was ${deployment.state}); the stable release serves when the daemon runs again`;
  store.updateDeployment(deployment.id, { state, reason, finishedAt: now });
  store.addEvent({ service: deployment.service, deploymentId: deployment.id, type: `deployment.${state}`, message: reason });
}

// Start-up after a daemon stop or crash: deployments that were in progress are rolled back to stable
// (with the reason recorded), and instance processes left from the previous run are stopped, so the
// stable release is started fresh and nothing runs that switchyard does not know about.
import type { Logger } from 'pino';
import { findInstanceProcesses, isOurInstanceProcess } from '../runtime/leftovers.js';
import { stopProcessGroup } from '../runtime/stop-process.js';
import type { Store } from '../store/index.js';

const LEFTOVER_STOP_TIMEOUT_MS = 10_000;

export async function recover(store: Store, log: Logger): Promise<void> {
  for (const deployment of store.activeDeployments()) {
    const now = new Date().toISOString();
    // Past its promote step the new release is already stable: it is what comes back up, so the
    // deployment succeeded (what was left was only stopping the old release and postDeploy).
    const promoted = store.stableRelease(deployment.service)?.id === deployment.toReleaseId;
    for (const step of store.steps(deployment.id)) {
      if (step.state === 'running') store.updateStep(deployment.id, step.index, { state: 'failed', detail: 'interrupted: the daemon stopped', finishedAt: now });
      else if (step.state === 'pending') store.updateStep(deployment.id, step.index, { state: 'skipped', detail: 'not run: the daemon stopped', finishedAt: now });
    }
    const state = promoted ? 'succeeded' : 'rolled-back';
    const reason = promoted
      ? `the daemon stopped after the new release became stable (it was ${deployment.state}); it serves on restart, the old release was stopped with the daemon, postDeploy did not run`
      : `the daemon stopped during this deployment (it was ${deployment.state}); rolled back to the stable release on restart`;
    store.updateDeployment(deployment.id, { state, reason, finishedAt: now });
    store.addEvent({ service: deployment.service, deploymentId: deployment.id, type: `deployment.${state}`, message: reason });
    log.warn({ service: deployment.service, deployment: deployment.id, state }, 'interrupted deployment settled');
  }
  const leftovers = store.instances({ states: ['starting', 'ready', 'draining'] });
  const unrecorded = findInstanceProcesses(new Set(leftovers.filter((r) => r.pid === null).map((r) => r.id)));
  await Promise.all(
    leftovers.map(async (row) => {
      let how = 'its process was already gone';
      const pid = row.pid ?? unrecorded.get(row.id) ?? null;
      if (pid !== null && isOurInstanceProcess(pid, row.id)) {
        const { outcome } = await stopProcessGroup(pid, 'SIGTERM', LEFTOVER_STOP_TIMEOUT_MS);
        how = outcome === 'killed' ? 'its process was killed' : 'its process was stopped';
      }
      store.updateInstance(row.id, { state: 'stopped' });
      store.addEvent({ service: row.service, instanceId: row.id, type: 'instance.stopped', message: `${row.id}: left from the previous daemon run; ${how}` });
    }),
  );
}

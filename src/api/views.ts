// JSON views of services and deployments, shared by the API, the CLI and the dashboard; their shapes are
// declared once in wire.ts, which these functions must satisfy.
import type { Controller } from '../deploy/controller.js';
import { DeployError } from '../deploy/errors.js';
import { describeStep, stepNames, type Step } from '../deploy/steps.js';
import { OUTPUT_LINES } from '../runtime/instance-output.js';
import type { DeploymentRow, EventRow, ReleaseRow, Store } from '../store/index.js';
import type { DeploymentView, LastDeploymentView, ReleaseView, ServiceView, Verdict } from './wire.js';

export function serviceView(controller: Controller, name: string): ServiceView {
  const { store } = controller;
  const config = controller.serviceConfig(name);
  const stable = store.stableRelease(name) ?? null;
  const run = controller.activeRun(name);
  const standby = controller.standbyOf(name);
  const routing = controller.routing(name);
  const instances = controller.supervisorInstances(name);
  const releases = new Map<number, ReleaseRow>();
  for (const i of instances) releases.set(i.release.id, i.release);
  if (stable) releases.set(stable.id, stable);
  const weightOf = (releaseId: number) => {
    const inRotation = [...routing.inRotation].filter((i) => i.release.id === releaseId).length;
    if (routing.weights !== null) return inRotation > 0 ? (routing.weights.get(releaseId) ?? 0) : 0;
    return inRotation;
  };
  const total = [...releases.keys()].reduce((sum, id) => sum + weightOf(id), 0);
  const releaseViews: ReleaseView[] = [...releases.values()]
    .sort((a, b) => a.number - b.number)
    .map((release) => ({
      number: release.number,
      version: release.version,
      role: release.id === stable?.id ? 'stable' : release.id === run?.target.id ? 'target' : release.id === standby?.release.id ? 'standby' : 'other',
      traffic: total === 0 ? 0 : Math.round((weightOf(release.id) / total) * 1000) / 10,
      instances: instances
        .filter((i) => i.release.id === release.id)
        .map((i) => ({
          id: i.id,
          state: i.state,
          ...controller.instanceStatus(i),
          inRotation: routing.inRotation.has(i),
          restarts: i.restarts,
          address: i.address,
          pid: i.pid,
        })),
    }));
  return {
    name,
    kind: config.targets ? 'static' : 'process',
    strategy: config.deploy.strategy,
    stable: stable ? { number: stable.number, version: stable.version } : null,
    instancesWanted: controller.wantedInstances(name),
    releases: releaseViews,
    preview: routing.previewRelease === null ? null : { header: config.deploy.blueGreen.previewHeader, value: '1' },
    deployment: run ? deploymentView(store, run.row, run.step) : null,
    lastDeployment: run ? null : lastDeploymentView(store, name),
    standby: standby ? { version: standby.release.version, number: standby.release.number, until: new Date(standby.until).toISOString() } : null,
  };
}

export function deploymentView(store: Store, row: DeploymentRow, currentStep?: number): DeploymentView {
  const from = row.fromReleaseId === null ? null : store.release(row.fromReleaseId);
  const to = store.release(row.toReleaseId);
  const steps = store.steps(row.id);
  const names = stepNames(to ?? null, from ?? null);
  const events = store.events({ deploymentId: row.id, limit: 1000 });
  const verdicts = events
    .filter((e) => e.type.startsWith('analysis.'))
    .slice(-20)
    .map((e) => ({ time: e.time, type: e.type, message: e.message, verdict: (e.data as { verdict?: Verdict } | null)?.verdict ?? null }));
  return {
    id: row.id,
    service: row.service,
    kind: row.kind,
    strategy: row.strategy,
    state: row.state,
    reason: row.reason,
    from: from ? { number: from.number, version: from.version } : null,
    to: to ? { number: to.number, version: to.version } : null,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
    durationMs: Date.parse(row.finishedAt ?? new Date().toISOString()) - Date.parse(row.createdAt),
    currentStep: currentStep ?? (row.finishedAt !== null ? steps.length : steps.findIndex((s) => s.state === 'running')),
    failureOutput: failureOutput(events),
    verdicts,
    steps: steps.map((s) => ({
      index: s.index,
      kind: s.kind,
      description: describeStep(s.params as Step, names),
      ...waitOf(s.params as Step),
      state: s.state,
      detail: s.detail,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
    })),
  };
}

/** How long a pause or analysis step waits (null: until promoted), for the time left in it. */
function waitOf(step: Step): { waitMs?: number | null } {
  return step.kind === 'pause' || step.kind === 'analysis' ? { waitMs: step.durationMs } : {};
}

/** Deployment states that leave the service flagged until someone acknowledges them. */
const BAD_ENDINGS: ReadonlySet<string> = new Set(['rolled-back', 'failed']);

/** The newest finished deployment of a service with how it ended, or null when it has none. */
export function lastDeploymentView(store: Store, service: string): LastDeploymentView | null {
  const row = store.deployments(service, 1)[0];
  if (row === undefined || row.finishedAt === null) return null;
  // Read on every poll of every service: one query of the events, and only for a bad ending.
  const bad = BAD_ENDINGS.has(row.state);
  const events = bad ? store.events({ deploymentId: row.id, limit: 1000 }) : [];
  const release = (id: number | null) => {
    const r = id === null ? undefined : store.release(id);
    return r === undefined ? null : { number: r.number, version: r.version };
  };
  return {
    id: row.id,
    kind: row.kind,
    strategy: row.strategy,
    state: row.state,
    reason: row.reason,
    from: release(row.fromReleaseId),
    to: release(row.toReleaseId),
    finishedAt: row.finishedAt,
    failureOutput: failureOutput(events),
    acknowledged: !bad || events.some((e) => e.type === 'deployment.acknowledged'),
  };
}

/**
 * A person has seen how a failed or rolled-back deployment ended: the service is no longer flagged.
 * Recorded as an event of that deployment, so every dashboard and the history see it.
 */
export function acknowledgeLastDeployment(store: Store, service: string): LastDeploymentView {
  const last = lastDeploymentView(store, service);
  if (last === null || !BAD_ENDINGS.has(last.state)) throw new DeployError('not_possible', `${service} has no failed or rolled-back deployment to acknowledge`);
  if (!last.acknowledged) {
    store.addEvent({ service, deploymentId: last.id, type: 'deployment.acknowledged', message: `deployment ${last.id} (${last.state}) acknowledged` });
  }
  return { ...last, acknowledged: true };
}

/**
 * The last lines printed by what made the deployment fail: the instance that would not start (carried by
 * the rolling-back event) or the failed hook. Empty when it did not fail, or nothing was printed.
 */
function failureOutput(events: readonly EventRow[]): string[] {
  for (const event of [...events].reverse()) {
    const output = (event.data as { output?: unknown } | null)?.output;
    if (event.type === 'deployment.rolling-back' && Array.isArray(output)) return output.filter((l): l is string => typeof l === 'string');
    if (/^hook\.(preDeploy|postDeploy)\.failed$/.test(event.type) && typeof output === 'string') {
      return output.split('\n').filter((l) => l.trim() !== '').slice(-OUTPUT_LINES);
    }
  }
  return [];
}

export function eventView(event: EventRow) {
  return event;
}

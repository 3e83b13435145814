// Runs the deploy schedule against a running switchyard through its admin API: each scenario's
// deployment, its fault (SIGKILL of an app or of the controller, an upgrade of switchyard, pause +
// abort, rollback after a switch), and what it recorded.
import { FINAL_STATES, poll, type AdminClient, type DeploymentView, type ServiceView } from './admin.js';
import { killController, upgrade, type ControllerKill, type DaemonHandle, type DeployVersions, type UpgradeRecord } from './daemon-faults.js';
import { describeScenario, type Scenario, type ScenarioKind } from './scenarios.js';

const SERVICE = 'web';
const DEPLOY_TIMEOUT_MS = 120_000;

export interface DeployRecord {
  index: number;
  kind: ScenarioKind;
  label: string;
  strategy: string;
  version: string | null;
  expect: Scenario['expect'];
  /** The final state of the scenario's deployment, or `error: ...` when the harness could not finish it. */
  outcome: string;
  reason: string | null;
  deploymentId: number | null;
  /** Milliseconds since the load started. */
  startMs: number;
  endMs: number;
  events: { at: number; type: string; message: string }[];
  /** rolling-sigkill: which process was killed and when. */
  kill?: { pid: number; instance: string; at: number };
  /** canary-abort: when abort was sent and when the API showed stable at 100%. */
  abort?: { at: number; apiStableAt: number; canaryVersion: string };
  /** rollback: how long after the blue-green switch it was asked for, and when traffic had moved. */
  rollback?: { afterSwitchMs: number | null; at: number; apiSwitchedAt: number; toVersion: string };
  /** upgrade, rolling-upgrade: switchyard's own upgrade. */
  upgrade?: UpgradeRecord;
  /** controller-sigkill: the controller process killed at a step. */
  controllerKill?: ControllerKill;
  notes: string[];
}

export interface CycleContext {
  admin: AdminClient;
  daemon: DaemonHandle;
  /** Milliseconds since the load started, and the load's start as a Date.now() value. */
  now: () => number;
  startedAt: number;
}

/** Runs one scenario to its final state and returns what happened. */
export async function runScenario(ctx: CycleContext, s: Scenario, previous: DeployRecord | undefined): Promise<DeployRecord> {
  const record: DeployRecord = {
    index: s.index,
    kind: s.kind,
    label: describeScenario(s),
    strategy: s.strategy ?? 'none',
    version: s.version,
    expect: s.expect,
    outcome: 'pending',
    reason: null,
    deploymentId: null,
    startMs: ctx.now(),
    endMs: 0,
    events: [],
    notes: [],
  };
  try {
    if (s.kind === 'upgrade') {
      record.upgrade = await upgrade(ctx.daemon, ctx.now);
      record.outcome = record.upgrade.outcome === 'succeeded' ? 'upgraded' : record.upgrade.outcome;
      record.endMs = ctx.now();
      return record;
    }
    const versions: DeployVersions = { from: (await ctx.admin.service(SERVICE)).stable?.version ?? null, to: s.version };
    const created = s.kind === 'rollback' ? await startRollback(ctx, record, previous) : await ctx.admin.deploy(SERVICE, { version: s.version!, strategy: s.strategy!, env: s.env });
    record.deploymentId = created.id;
    if (s.kind === 'rolling-sigkill') await killMidDeploy(ctx, record, created.id);
    if (s.kind === 'canary-abort') await pauseThenAbort(ctx, record, created.id, s.version!);
    if (s.kind === 'rolling-upgrade') await upgradeMidDeploy(ctx, record, created.id, versions);
    if (s.kind === 'controller-sigkill') await killControllerAtStop(ctx, record, created.id, versions);
    const final = await waitFinal(ctx.admin, created.id);
    record.outcome = final.state;
    record.reason = final.reason;
    record.events = (final.events ?? []).map((e) => ({ at: Date.parse(e.time) - ctx.startedAt, type: e.type, message: e.message }));
  } catch (err) {
    record.outcome = `error: ${err instanceof Error ? err.message : String(err)}`;
    await settle(ctx.admin, record);
  }
  record.endMs = ctx.now();
  return record;
}

async function waitFinal(admin: AdminClient, id: number): Promise<DeploymentView> {
  return poll(async () => {
    const view = await admin.deployment(id);
    return FINAL_STATES.includes(view.state) ? view : undefined;
  }, `deployment ${id} to finish`, DEPLOY_TIMEOUT_MS, 150);
}

/** After a harness error: abort whatever still runs, so the next scenario starts from a stable service. */
async function settle(admin: AdminClient, record: DeployRecord): Promise<void> {
  try {
    const service = await admin.service(SERVICE);
    if (service.deployment !== null) await admin.action(SERVICE, 'abort').catch(() => undefined);
    await poll(async () => ((await admin.service(SERVICE)).deployment === null ? true : undefined), 'no deployment in progress', DEPLOY_TIMEOUT_MS, 200);
  } catch (err) {
    record.notes.push(`could not settle the service: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Waits until the first new instance serves; the view then, or 'over' when the deployment ended first. */
function firstNewInstanceServing(ctx: CycleContext, id: number): Promise<ServiceView | 'over'> {
  return poll(async () => {
    const view = await ctx.admin.service(SERVICE);
    if (view.deployment?.id !== id) return 'over' as const;
    const target = view.releases.find((r) => r.role === 'target');
    return target?.instances.some((i) => i.state === 'ready' && i.inRotation) ? view : undefined;
  }, 'a new instance in rotation', DEPLOY_TIMEOUT_MS, 50);
}

/** SIGKILL one in-rotation instance of the stable release once the first new instance serves. */
async function killMidDeploy(ctx: CycleContext, record: DeployRecord, id: number): Promise<void> {
  const view = await firstNewInstanceServing(ctx, id);
  const stable = view === 'over' ? undefined : view.releases.find((r) => r.role === 'stable');
  const victim = view === 'over' ? 'over' : (stable?.instances.find((i) => i.inRotation && i.state === 'ready' && i.pid !== null) ?? 'none');
  if (victim === 'over' || victim === 'none') {
    record.notes.push(victim === 'over' ? 'the deployment ended before an instance could be killed' : 'no stable instance in rotation to kill');
    return;
  }
  process.kill(victim.pid!, 'SIGKILL');
  record.kill = { pid: victim.pid!, instance: victim.id, at: ctx.now() };
}

/** Upgrades switchyard once the first new instance serves: the next generation resumes the deployment. */
async function upgradeMidDeploy(ctx: CycleContext, record: DeployRecord, id: number, versions: DeployVersions): Promise<void> {
  if ((await firstNewInstanceServing(ctx, id)) === 'over') record.notes.push('the deployment ended before the upgrade: it ran between deploys');
  record.upgrade = await upgrade(ctx.daemon, ctx.now, versions);
}

/** SIGKILLs the controller while a stop step runs (an old instance draining); another takes over. */
async function killControllerAtStop(ctx: CycleContext, record: DeployRecord, id: number, versions: DeployVersions): Promise<void> {
  const step = await poll(async () => {
    const view = await ctx.admin.deployment(id);
    if (FINAL_STATES.includes(view.state)) return 'over';
    const running = view.steps.find((st) => st.state === 'running' && st.kind === 'stop');
    return running === undefined ? undefined : `${running.index} ${running.kind}: ${running.description}`;
  }, 'a stop step to run', DEPLOY_TIMEOUT_MS, 25);
  if (step === 'over') {
    record.notes.push('the deployment ended before a stop step was seen running: no controller was killed');
    return;
  }
  record.controllerKill = await killController(ctx.daemon, ctx.now, step, versions);
}

/** Waits for the canary's first step, pauses it, then aborts and times the way back to stable. */
async function pauseThenAbort(ctx: CycleContext, record: DeployRecord, id: number, version: string): Promise<void> {
  const { admin } = ctx;
  await poll(async () => {
    const view = await admin.service(SERVICE);
    const target = view.releases.find((r) => r.role === 'target');
    return target !== undefined && target.traffic > 0 ? true : undefined;
  }, 'the canary to get traffic', DEPLOY_TIMEOUT_MS, 50);
  await admin.action(SERVICE, 'pause');
  await poll(async () => ((await admin.deployment(id)).state === 'paused' ? true : undefined), 'the canary to be paused', 10_000, 50);
  const at = ctx.now();
  await admin.action(SERVICE, 'abort');
  await poll(async () => (stableHasAll(await admin.service(SERVICE)) ? true : undefined), 'stable at 100% after abort', DEPLOY_TIMEOUT_MS, 20);
  record.abort = { at, apiStableAt: ctx.now(), canaryVersion: version };
}

/** A rollback right after the previous scenario's blue-green switch, while the old fleet is on standby. */
async function startRollback(ctx: CycleContext, record: DeployRecord, previous: DeployRecord | undefined): Promise<DeploymentView> {
  const { admin } = ctx;
  const before = await admin.service(SERVICE);
  const standby = before.standby;
  if (previous?.kind !== 'blue-green' || standby === null) record.notes.push('no blue-green standby: this rollback is a fast rolling deployment, not a swap');
  const at = ctx.now();
  const created = await admin.action(SERVICE, 'rollback');
  const toVersion = standby?.version ?? '?';
  await poll(async () => {
    const view = await admin.service(SERVICE);
    return view.releases.some((r) => r.version === toVersion && r.traffic === 100) ? true : undefined;
  }, `${toVersion} at 100% after the rollback`, DEPLOY_TIMEOUT_MS, 20);
  record.rollback = { afterSwitchMs: previous?.kind === 'blue-green' ? at - previous.endMs : null, at, apiSwitchedAt: ctx.now(), toVersion };
  return created;
}

function stableHasAll(view: ServiceView): boolean {
  const stable = view.releases.find((r) => r.role === 'stable');
  return stable !== undefined && stable.traffic === 100 && view.releases.every((r) => r === stable || r.traffic === 0);
}

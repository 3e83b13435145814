// The controller: the only writer of routing tables. It brings each service's stable release up,
// starts deployments (plan → executor), and answers promote, pause, resume, abort, rollback and scale.
import type { Logger } from 'pino';
import type { Config, DeployStrategy, ServiceConfig } from '../config/index.js';
import { healthPolicy } from '../daemon/service-policy.js';
import type { HealthChecker } from '../health/active-checker.js';
import { emptyTotals, errorStatusMatcher } from '../metrics/rolling-window.js';
import type { RequestMetrics } from '../metrics/request-metrics.js';
import type { DataPlane } from '../proxy/data-plane.js';
import type { TableSpec } from '../proxy/routing-table.js';
import type { Instance } from '../runtime/instance.js';
import type { InstanceRuntime } from '../runtime/instance-runtime.js';
import type { DeploymentRow, ReleaseRow, ReleaseSpec, Store } from '../store/index.js';
import { instanceCount, parseDeployRequest, processCount, releaseSpecFor, VERSION_LABEL } from './deploy-request.js';
import { DeploymentRun, type HookName } from './deployment-run.js';
import { DeployError, unknownService } from './errors.js';
import { HookRunner } from './hook-runner.js';
import { runCheck } from './analysis/checks.js';
import { combine, judge, type Verdict } from './analysis/judge.js';
import { emptyRouting, releaseNames, restoreRouting, serviceSpecFor, storedRouting, type Routing } from './routing.js';
import { settleInterrupted } from './recovery.js';
import { findInstanceProcesses, isOurInstanceProcess } from '../runtime/leftovers.js';
import { stopProcessGroup } from '../runtime/stop-process.js';
import type { Step } from './steps.js';
import { refusePastWindow } from './rollback-window.js';
import { plan } from './strategies/index.js';

/** An instance of a service removed from the config gets the config's defaults: drain 30 s, then SIGTERM, SIGKILL after 10 s. */
const REMOVED_DRAIN_MS = 30_000;
const REMOVED_STOP_MS = 10_000;

interface Standby {
  release: ReleaseRow;
  timer: NodeJS.Timeout;
  until: number;
}

/** What the controller reads of instance health (local checks, or in a cluster every host's reports). */
export type HealthView = Pick<HealthChecker<Instance>, 'onChange' | 'isHealthy' | 'healthySince' | 'updatePolicy'>;

export interface ControllerDeps {
  store: Store;
  health: HealthView;
  metrics: RequestMetrics;
  supervisor: InstanceRuntime;
  dataPlane: DataPlane;
  log: Logger;
  /** How many hosts instances are placed on (cluster mode: the live ones); one when absent. */
  hosts?: () => number;
}

/** How long a deploy, rollback or scale waits for a resize under way before it is refused (service_busy). */
const RESIZE_WAIT_MS = 10_000;

export class Controller {
  private readonly routings = new Map<string, Routing>();
  private readonly runs = new Map<string, DeploymentRun>();
  private readonly standbys = new Map<string, Standby>();
  private readonly hooks: HookRunner;
  private published: TableSpec = { services: [] };
  /** Rollbacks that are one swap back to a standby fleet (the API answers once that swap is in force). */
  private readonly instantRollbacks = new Set<number>();
  /** A change of a stable release's instance count under way, per service (see `resize`). */
  private readonly resizing = new Map<string, { what: string; held: Promise<void> }>();
  /** Set by recover() once every service's split is back: no table is published before. */
  private splitsRestored = false;

  constructor(
    private config: Config,
    private readonly deps: ControllerDeps,
  ) {
    this.hooks = new HookRunner(deps.store, deps.log);
    // Health travels in the table: every change is a new table, once recovery restored the splits (before
    // that, a table would route nothing).
    deps.health.onChange(() => {
      if (this.splitsRestored) void this.applyTable();
    });
  }

  get store(): Store {
    return this.deps.store;
  }

  serviceConfig(service: string): ServiceConfig {
    const config = this.config.services[service];
    if (config === undefined) throw new DeployError('unknown_service', unknownService(service, this.serviceNames()));
    return config;
  }

  serviceNames(): string[] {
    return Object.keys(this.config.services);
  }

  /** Live instances of a service (starting or ready). */
  supervisorInstances(service: string): Instance[] {
    return this.deps.supervisor.instances({ service });
  }

  /** What the checks and the proxies say of an instance. */
  instanceStatus(instance: Instance): { healthy: boolean; ejected: boolean; inFlight: number } {
    const report = this.deps.dataPlane.endpoint(instance.id);
    return { healthy: this.deps.health.isHealthy(instance), ejected: report.ejected, inFlight: report.inFlight };
  }

  routing(service: string): Routing {
    return this.routings.get(service) ?? emptyRouting();
  }

  activeRun(service: string): DeploymentRun | undefined {
    const run = this.runs.get(service);
    return run?.isActive ? run : undefined;
  }

  private instanceCount(config: ServiceConfig, spec: ReleaseSpec, scaled: number | undefined): number {
    return instanceCount(config, spec, scaled, this.deps.hosts?.() ?? 1);
  }

  /** The count `scale` set (kept in the store across restarts), if any. */
  private scaledCount(service: string): number | undefined {
    return this.deps.store.scaledInstances(service) ?? undefined;
  }

  /** How many instances the stable release should run: the config's count, or what `scale` set. */
  wantedInstances(service: string): number {
    const config = this.serviceConfig(service);
    const stable = this.deps.store.stableRelease(service);
    if (stable) return this.instanceCount(config, stable.spec, this.scaledCount(service));
    return config.targets?.length ?? processCount(config, undefined, this.deps.hosts?.() ?? 1);
  }

  standbyOf(service: string): { release: ReleaseRow; until: number } | undefined {
    return this.standbys.get(service);
  }

  /**
   * Publishes a table built from every service's routing and the instances' health; resolves once every
   * proxy has acknowledged it (invariants 6 and 10).
   */
  async applyTable(): Promise<void> {
    const { health } = this.deps;
    const healthOf = (i: Instance) => ({ healthy: health.isHealthy(i), healthySince: health.healthySince(i) });
    const spec: TableSpec = { services: [] };
    for (const [name, config] of Object.entries(this.config.services)) {
      spec.services.push(serviceSpecFor(name, config, this.routing(name), healthOf, this.deps.store.stableRelease(name)?.id ?? null));
    }
    this.published = spec;
    await this.deps.dataPlane.publish(spec);
  }

  /** The newest table published to the proxies (in force once they acknowledged it). */
  publishedTable(): TableSpec {
    return this.published;
  }

  /** New settings for services (reload); a running deployment keeps going with them. */
  async updateConfig(config: Config): Promise<void> {
    this.config = config;
    for (const [name, service] of Object.entries(config.services)) {
      const policy = healthPolicy(service);
      for (const instance of this.deps.supervisor.instances({ service: name })) this.deps.health.updatePolicy(instance, policy);
    }
    await this.applyTable();
  }

  /** A deploy request: validated whole before anything is written; it begins once a resize under way ended. */
  async deploy(service: string, body: unknown): Promise<DeploymentRow> {
    const config = this.serviceConfig(service);
    const request = parseDeployRequest(body);
    await this.settled(service);
    this.refuseIfBusy(service);
    const spec = releaseSpecFor(config, request);
    const release = this.deps.store.createRelease(service, request.version, spec);
    return this.begin(service, release, request.strategy ?? config.deploy.strategy, 'deploy', false);
  }

  /** Starts a deployment of an existing release row. */
  begin(service: string, target: ReleaseRow, strategy: DeployStrategy, kind: 'deploy' | 'rollback', skipPauses: boolean, steps?: Step[]): DeploymentRow {
    const config = this.serviceConfig(service);
    const { store } = this.deps;
    const stable = store.stableRelease(service) ?? null;
    const stableCount = stable === null ? 0 : this.deps.supervisor.instances({ releaseId: stable.id }).length;
    const fresh = plan(strategy, { stableCount, targetCount: this.instanceCount(config, target.spec, this.scaledCount(service)), deploy: config.deploy, skipPauses });
    // Going back runs no deploy hooks (a migration is not undone by running it again); onRollback is for that.
    const planned = steps ?? (kind === 'rollback' ? fresh.filter((step) => step.kind !== 'hook') : fresh);
    const row = store.transaction(() => {
      const created = store.createDeployment({ service, fromReleaseId: stable?.id ?? null, toReleaseId: target.id, strategy, kind, state: 'pending' });
      store.saveSteps(created.id, planned.map((step) => ({ kind: step.kind, params: step })));
      return created;
    });
    const run = new DeploymentRun(this.runContext(service), row, planned, target, stable, { skipPauses });
    this.runs.set(service, run);
    void run.finished.then((final) => this.deps.log.info({ service, deployment: final.id, state: final.state, reason: final.reason }, 'deployment finished'));
    return row;
  }

  promote(service: string, full: boolean): DeploymentRow {
    const run = this.requireRun(service);
    run.promote(full);
    return run.row;
  }

  pause(service: string): DeploymentRow {
    const run = this.requireRun(service);
    run.pause();
    return run.row;
  }

  resume(service: string): DeploymentRow {
    const run = this.requireRun(service);
    run.resume();
    return run.row;
  }

  abort(service: string): DeploymentRow {
    const run = this.requireRun(service);
    run.cancel('aborted by user');
    return run.row;
  }

  /**
   * Back to the previous (or a named) release: one table swap while the old fleet is on standby,
   * else a fast rolling deployment without pauses. During a deployment it is the same as abort. It
   * refuses to go back past a release whose rollback window ended, unless `force`.
   */
  rollback(service: string, to?: string, force = false): DeploymentRow {
    this.serviceConfig(service);
    const active = this.activeRun(service);
    if (active) {
      if (!force) refusePastWindow(this.deps.store, service, active.stable?.number ?? 0, active.target.number, active.stable?.version ?? 'nothing');
      active.cancel('rollback requested');
      return active.row;
    }
    const { store } = this.deps;
    const stable = store.stableRelease(service);
    if (stable === undefined) throw new DeployError('not_possible', `${service} has no stable release to roll back from`);
    const standby = this.standbys.get(service);
    let target: ReleaseRow | undefined;
    if (to !== undefined) {
      if (!VERSION_LABEL.test(to)) throw new DeployError('invalid_field', 'to must be a version label', 'to');
      target = store.latestReleaseByVersion(service, to);
      if (target === undefined) throw new DeployError('unknown_release', `${service} has no release ${to}`, 'to');
    } else {
      target = standby?.release ?? this.previousRelease(service, stable);
      if (target === undefined) throw new DeployError('not_possible', `${service} has no earlier release to roll back to`);
    }
    if (target.id === stable.id) throw new DeployError('not_possible', `${target.version} is already the stable release`, to === undefined ? undefined : 'to');
    if (!force) refusePastWindow(store, service, target.number, stable.number, target.version);
    if (standby && standby.release.id === target.id) {
      clearTimeout(standby.timer);
      this.standbys.delete(service);
      store.setStandby(service, null);
      const instant: Step[] = [
        { kind: 'route', rotation: { target: 'all', stable: 0 }, weights: { mode: 'percent', target: 100 }, preview: false },
        { kind: 'promote' },
        { kind: 'stop', release: 'stable', count: 'all' },
      ];
      const row = this.begin(service, target, 'blue-green', 'rollback', true, instant);
      this.instantRollbacks.add(row.id);
      return row;
    }
    return this.begin(service, target, 'rolling', 'rollback', true);
  }

  /**
   * A rollback as the API serves it: an instant one (back to the standby fleet) answers once its swap is
   * in force in every proxy, so the next request reaches the old release; another answers at once.
   */
  async rollbackInForce(service: string, to?: string, force = false): Promise<DeploymentRow> {
    await this.settled(service);
    const row = this.rollback(service, to, force);
    const run = this.runs.get(service);
    if (this.instantRollbacks.delete(row.id) && run?.id === row.id) await run.routed;
    return this.deps.store.deployment(row.id) ?? row;
  }

  /** Changes the stable release's instance count; scaling down drains first. */
  async scale(service: string, count: unknown): Promise<{ from: number; to: number }> {
    const config = this.serviceConfig(service);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 256) {
      throw new DeployError('invalid_field', 'instances must be a whole number from 1 to 256', 'instances');
    }
    await this.settled(service);
    this.refuseIfBusy(service);
    const stable = this.deps.store.stableRelease(service);
    if (stable === undefined) throw new DeployError('not_possible', `${service} has no stable release yet`);
    if (stable.spec.kind === 'static') throw new DeployError('not_possible', 'a service with static targets scales by deploying a new target list', 'instances');
    return this.resize(service, `scaling ${stable.version} to ${count} instance(s)`, () => this.scaleStable(service, config, stable, count));
  }

  private async scaleStable(service: string, config: ServiceConfig, stable: ReleaseRow, count: number): Promise<{ from: number; to: number }> {
    const { supervisor, store } = this.deps;
    const current = supervisor.instances({ releaseId: stable.id });
    store.setScaledInstances(service, count);
    // With placement perHost the count is per host: the cluster runs it on every live host.
    const wanted = this.instanceCount(config, stable.spec, count);
    const perHost = wanted === count ? '' : ` (${count} on each of ${wanted / count} hosts)`;
    store.addEvent({ service, type: 'service.scaled', message: `${service}: scaling ${stable.version} from ${current.length} to ${wanted} instances${perHost}` });
    if (wanted > current.length) {
      const started = await Promise.all(Array.from({ length: wanted - current.length }, () => supervisor.start(service, config, stable)));
      const routing = this.routing(service);
      await this.setRouting(service, { ...routing, inRotation: new Set([...routing.inRotation, ...started]) });
    } else if (wanted < current.length) {
      const leaving = current.slice(wanted);
      const routing = this.routing(service);
      await this.setRouting(service, { ...routing, inRotation: new Set([...routing.inRotation].filter((i) => !leaving.includes(i))) });
      await Promise.all(leaving.map((i) => supervisor.stop(i, config)));
    }
    return { from: current.length, to: wanted };
  }

  /** Brings a service's stable release up (used at start, after recovery). */
  async startStable(service: string): Promise<void> {
    const config = this.serviceConfig(service);
    const { store } = this.deps;
    // A first deployment taken over from the last controller may make a release stable: wait for it first.
    if (store.stableRelease(service) === undefined) await this.runs.get(service)?.finished;
    const stable = store.stableRelease(service);
    if (stable === undefined) {
      const spec: ReleaseSpec = config.targets !== undefined ? { kind: 'static', targets: config.targets } : releaseSpecFor(config, { version: config.run!.version, env: {} });
      const release = store.createRelease(service, config.run?.version ?? 'static', spec);
      const row = this.begin(service, release, 'rolling', 'deploy', true, [
        { kind: 'start', release: 'target', count: this.instanceCount(config, spec, undefined) },
        { kind: 'route', rotation: { target: 'all', stable: 0 }, weights: { mode: 'instances' }, preview: false },
        { kind: 'promote' },
      ]);
      const final = await this.runs.get(service)!.finished;
      if (final.state === 'succeeded') this.deps.log.info({ service, deployment: row.id }, 'first release deployed');
      return;
    }
    await this.settled(service, Infinity);
    // A deployment in progress (taken over from the last controller) owns the service's instances.
    if (this.activeRun(service)) return;
    await this.resize(service, `starting the instances stable ${stable.version} lacks`, () => this.fillStable(service, config, stable));
  }

  /** Starts the instances a stable release lacks (a host that joined, with placement perHost). */
  private async fillStable(service: string, config: ServiceConfig, stable: ReleaseRow): Promise<void> {
    const { store, supervisor } = this.deps;
    const count = this.instanceCount(config, stable.spec, this.scaledCount(service));
    const serving = [...this.routing(service).inRotation].filter((i) => i.release.id === stable.id && i.isLive);
    const missing = count - serving.length;
    if (missing <= 0) return;
    store.addEvent({
      service,
      type: 'service.starting',
      message: serving.length === 0
        ? `${service}: starting ${count} instance(s) of stable ${stable.version} (release ${stable.number})`
        : `${service}: ${serving.length} instance(s) of stable ${stable.version} kept serving; starting ${missing} more`,
    });
    const results = await Promise.allSettled(Array.from({ length: missing }, () => supervisor.start(service, config, stable)));
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const r of results) {
      if (r.status === 'rejected') store.addEvent({ service, type: 'service.degraded', message: `${service}: an instance of ${stable.version} did not start: ${String(r.reason)}` });
    }
    const routing = this.routing(service);
    await this.setRouting(service, { ...routing, inRotation: new Set([...routing.inRotation, ...started]) });
  }

  /**
   * Takes over from the controller before this one (a crash, an upgrade, a daemon restart): adopts every
   * instance whose process still runs (same PID, kept in rotation while its checks pass), restores each
   * service's split as it was published, finishes stops that were under way, keeps a standby release,
   * and resumes each deployment from its stored steps. Nothing healthy is restarted (invariant 11).
   */
  async recover(): Promise<void> {
    const { store, supervisor, log } = this.deps;
    const rows = store.instances({ states: ['starting', 'ready', 'draining'] });
    const unrecorded = findInstanceProcesses(new Set(rows.filter((r) => r.pid === null).map((r) => r.id)));
    const draining: Instance[] = [];
    const removed: { id: string; service: string; pid: number }[] = [];
    for (const row of rows) {
      const release = store.release(row.releaseId)!;
      const config = this.config.services[row.service];
      // In a cluster an instance runs on its host (row.node), whose agent adopts it: never a process here.
      const pid = row.node === null ? (row.pid ?? unrecorded.get(row.id) ?? null) : null;
      const instance = config === undefined ? null : supervisor.adopt(row, release, config, pid);
      if (instance !== null) {
        if (row.state === 'draining') draining.push(instance);
        store.addEvent({ service: row.service, instanceId: row.id, type: 'instance.adopted', message: `${row.id}: adopted (${row.state}${instance.pid === null ? '' : `, pid ${instance.pid}`})` });
        continue;
      }
      // A service no longer in the config: its process stops once the table without it is in force.
      if (pid !== null && isOurInstanceProcess(pid, row.id)) removed.push({ id: row.id, service: row.service, pid });
      else {
        store.updateInstance(row.id, { state: 'stopped' });
        store.addEvent({ service: row.service, instanceId: row.id, type: 'instance.stopped', message: `${row.id}: not adopted: its process was gone` });
      }
    }
    for (const service of this.serviceNames()) {
      const stored = store.routing(service);
      if (stored !== null) this.routings.set(service, restoreRouting(stored, (id) => supervisor.get(id)));
    }
    this.splitsRestored = true;
    // The proxies keep serving the last table meanwhile; this one says the same from what was adopted.
    await this.applyTable();
    for (const r of removed) void this.stopRemoved(r);
    for (const instance of draining) {
      const config = this.serviceConfig(instance.service);
      void supervisor.stop(instance, config).catch((err: unknown) => log.error({ err, instance: instance.id }, 'stopping a draining instance failed'));
    }
    for (const service of this.serviceNames()) {
      const standby = store.standby(service);
      const release = standby === null ? undefined : store.release(standby.releaseId);
      if (standby !== null && release !== undefined) this.keepOnStandby(service, release, Math.max(0, standby.until - Date.now()), standby.deploymentId, true);
    }
    for (const deployment of store.activeDeployments()) this.takeOverDeployment(deployment);
    await this.stopStrays();
  }

  /**
   * Stops an instance of a service the config no longer has, after the table without it is in force:
   * drained first (invariant 2), with the default drain and stop times since its config is gone.
   */
  private async stopRemoved({ id, service, pid }: { id: string; service: string; pid: number }): Promise<void> {
    const { store, dataPlane, log } = this.deps;
    try {
      await dataPlane.drain(id, REMOVED_DRAIN_MS);
      const { outcome } = await stopProcessGroup(pid, 'SIGTERM', REMOVED_STOP_MS);
      store.updateInstance(id, { state: 'stopped' });
      store.addEvent({ service, instanceId: id, type: 'instance.stopped', message: `${id}: not adopted: its service is no longer in the config; its process was ${outcome === 'killed' ? 'killed' : 'stopped'}` });
    } catch (err) {
      log.error({ err, instance: id }, 'stopping an instance of a removed service failed');
    }
  }

  /** Stops adopted instances nothing wants: not in rotation, not stable, not part of a deployment or standby. */
  private async stopStrays(): Promise<void> {
    const { store, supervisor } = this.deps;
    const strays: Instance[] = [];
    for (const service of this.serviceNames()) {
      const wanted = new Set<number>();
      const stable = store.stableRelease(service);
      if (stable) wanted.add(stable.id);
      const run = this.activeRun(service);
      if (run) {
        wanted.add(run.target.id);
        if (run.stable) wanted.add(run.stable.id);
      }
      const standby = this.standbys.get(service);
      if (standby) wanted.add(standby.release.id);
      const inRotation = this.routing(service).inRotation;
      for (const instance of supervisor.instances({ service })) {
        if (!wanted.has(instance.release.id) && !inRotation.has(instance)) strays.push(instance);
      }
    }
    await Promise.all(strays.map((i) => supervisor.stop(i, this.serviceConfig(i.service))));
  }

  /** Goes on with a deployment another controller began, from its stored steps. */
  private takeOverDeployment(deployment: DeploymentRow): void {
    const { store, log } = this.deps;
    const target = store.release(deployment.toReleaseId)!;
    const stable = deployment.fromReleaseId === null ? null : (store.release(deployment.fromReleaseId) ?? null);
    if (this.config.services[deployment.service] === undefined) {
      settleInterrupted(store, deployment, 'its service is no longer in the config');
      return;
    }
    const stored = store.steps(deployment.id);
    const steps = stored.map((row) => row.params as Step);
    const run = new DeploymentRun(this.runContext(deployment.service), deployment, steps, target, stable, { skipPauses: deployment.kind === 'rollback', resume: stored });
    this.runs.set(deployment.service, run);
    log.warn({ service: deployment.service, deployment: deployment.id, state: deployment.state }, 'deployment taken over from the previous controller');
    void run.finished.then((final) => log.info({ service: deployment.service, deployment: final.id, state: final.state, reason: final.reason }, 'deployment finished'));
  }

  /**
   * In a cluster, another controller leads now: stop every deployment where it is (the new leader
   * resumes it from its stored steps) and every timer, and write nothing more.
   */
  standDown(): void {
    for (const standby of this.standbys.values()) clearTimeout(standby.timer);
    this.standbys.clear();
    for (const run of this.runs.values()) if (run.isActive) run.halt();
  }

  /**
   * Daemon stop: every instance drains and stops, so a deployment in progress cannot go on; it is
   * settled now (succeeded when its target was already stable, else rolled back) with the reason.
   */
  async shutdown(): Promise<void> {
    for (const standby of this.standbys.values()) clearTimeout(standby.timer);
    this.standbys.clear();
    for (const run of this.runs.values()) {
      if (!run.isActive) continue;
      run.halt();
      settleInterrupted(this.deps.store, this.deps.store.deployment(run.id)!, 'the daemon was stopped during this deployment');
    }
    await this.deps.supervisor.stopAll((service) => this.config.services[service]);
  }

  /**
   * Records the split (invariant 7; with `alsoWrite`'s records in the same transaction), then publishes
   * it and waits until every proxy routes by it.
   */
  private async setRouting(service: string, routing: Routing, alsoWrite?: () => void): Promise<void> {
    const { store } = this.deps;
    store.transaction(() => {
      alsoWrite?.();
      store.setRouting(service, storedRouting(routing));
    });
    // In force for this controller only once durable: a health change meanwhile republishes the old split.
    await store.flush();
    this.routings.set(service, routing);
    await this.applyTable();
  }

  private runContext(service: string) {
    return {
      service,
      store: this.deps.store,
      supervisor: this.deps.supervisor,
      config: () => this.serviceConfig(service),
      routing: () => this.routing(service),
      applyRouting: (next: Routing, alsoWrite?: () => void) => this.setRouting(service, next, alsoWrite),
      setStable: (releaseId: number | null) => {
        if (releaseId === null) this.deps.store.clearStableRelease(service);
        else this.deps.store.setStableRelease(service, releaseId);
      },
      runHook: (hook: HookName, target: ReleaseRow, previous: ReleaseRow | null, deploymentId: number) =>
        this.hooks.run(service, this.serviceConfig(service), hook, target, previous, deploymentId),
      standby: (release: ReleaseRow, delayMs: number, deploymentId: number) => this.keepOnStandby(service, release, delayMs, deploymentId),
      analyze: (target: ReleaseRow, stable: ReleaseRow | null, fromSecond: number) => this.analyze(service, target, stable, fromSecond),
    };
  }

  /** One verdict: the target's window against stable's, from what the proxy observed, plus checks. */
  private async analyze(service: string, target: ReleaseRow, stable: ReleaseRow | null, fromSecond: number): Promise<Verdict> {
    const config = this.serviceConfig(service).deploy.analysis;
    const names = releaseNames(this.routing(service));
    const series = this.deps.metrics.series.get(service);
    const isError = errorStatusMatcher(config.errorStatuses);
    const to = Math.floor(Date.now() / 1000);
    const totalsOf = (release: ReleaseRow | null) => {
      const name = release === null ? undefined : names.get(release.id);
      const window = name === undefined ? undefined : series?.get(name)?.window;
      return window ? window.totals(fromSecond, to, isError) : emptyTotals();
    };
    const verdict = judge(totalsOf(target), totalsOf(stable), config);
    if (!config.checks || config.checks.length === 0) return verdict;
    const env = { SWITCHYARD_SERVICE: service, SWITCHYARD_VERSION: target.version, SWITCHYARD_PREVIOUS_VERSION: stable?.version ?? '' };
    const cwd = target.spec.kind === 'process' ? target.spec.cwd : process.cwd();
    const results = await Promise.all(config.checks.map((check) => runCheck(check, env, cwd)));
    return combine([...verdict.checks, ...results], verdict.canary, verdict.baseline);
  }

  /** Blue-green: the old fleet stays up out of rotation for an instant rollback, then stops. */
  private keepOnStandby(service: string, release: ReleaseRow, delayMs: number, deploymentId: number, resumed = false): void {
    const { store, supervisor, log } = this.deps;
    const until = Date.now() + delayMs;
    if (!resumed) {
      store.setStandby(service, { releaseId: release.id, until, deploymentId });
      store.addEvent({ service, deploymentId, type: 'release.standby', message: `${release.version} stays up for ${Math.round(delayMs / 1000)} s: a rollback now is one table swap` });
    }
    const timer = setTimeout(() => {
      // A newer deployment may have put another release on standby since: that one stays, and its own
      // timer runs postDeploy for the stable release it leaves.
      const current = this.standbys.get(service)?.timer === timer;
      if (current) {
        this.standbys.delete(service);
        store.setStandby(service, null);
      }
      const config = this.serviceConfig(service);
      const idle = supervisor.instances({ releaseId: release.id }).filter((i: Instance) => !this.routing(service).inRotation.has(i));
      void Promise.all(idle.map((i) => supervisor.stop(i, config)))
        .then(async () => {
          store.addEvent({ service, deploymentId, type: 'release.retired', message: `${release.version} stopped after its standby time` });
          const stable = store.stableRelease(service);
          if (stable && current) await this.hooks.run(service, config, 'postDeploy', stable, release, deploymentId);
        })
        .catch((err: unknown) => log.error({ err, service }, 'retiring the standby release failed'));
    }, delayMs);
    timer.unref();
    this.standbys.set(service, { release, timer, until });
  }

  private previousRelease(service: string, stable: ReleaseRow): ReleaseRow | undefined {
    const { store } = this.deps;
    const last = store.deployments(service, 50).find((d) => d.state === 'succeeded' && d.toReleaseId === stable.id && d.fromReleaseId !== null);
    return last?.fromReleaseId == null ? undefined : store.release(last.fromReleaseId);
  }

  /**
   * Runs a change of a stable release's instance count (scale, a joined host's share) with the service
   * held: deployments, rollbacks and other resizes wait until it ended, so none plans with a count about
   * to change, and no instance is put back into rotation under a deployment that moved traffic on.
   */
  private async resize<T>(service: string, what: string, work: () => Promise<T>): Promise<T> {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    this.resizing.set(service, { what, held });
    try {
      return await work();
    } finally {
      this.resizing.delete(service);
      release();
    }
  }

  /**
   * Resolves once no resize of the service is under way. A request waits at most `maxWaitMs` (well
   * inside a client's timeout, so a request that timed out never takes effect later), then is refused.
   */
  private async settled(service: string, maxWaitMs = RESIZE_WAIT_MS): Promise<void> {
    const deadline = performance.now() + maxWaitMs;
    for (let current = this.resizing.get(service); current !== undefined; current = this.resizing.get(service)) {
      const left = deadline - performance.now();
      let timer: NodeJS.Timeout | undefined;
      const late = left === Infinity ? null : new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, left))));
      const outcome = await (late === null ? current.held : Promise.race([current.held, late]));
      clearTimeout(timer);
      if (outcome === 'late') throw new DeployError('service_busy', `${service} is ${current.what}; try again once that is done`);
    }
  }

  private refuseIfBusy(service: string): void {
    const active = this.activeRun(service);
    if (active) throw new DeployError('deployment_in_progress', `deployment ${active.id} of ${service} is ${active.row.state}; wait for it, or abort it`);
  }

  private requireRun(service: string): DeploymentRun {
    this.serviceConfig(service);
    const run = this.activeRun(service);
    if (!run) throw new DeployError('no_deployment', `${service} has no deployment in progress`);
    return run;
  }
}

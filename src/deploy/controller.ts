// The controller: the only writer of routing tables. It brings each service's stable release up,
// starts deployments (plan → executor), and answers promote, pause, resume, abort, rollback and scale.
import type { Logger } from 'pino';
import type { Config, DeployStrategy, ServiceConfig } from '../config/index.js';
import { healthPolicy } from '../daemon/service-policy.js';
import type { HealthChecker } from '../health/active-checker.js';
import { emptyTotals, errorStatusMatcher } from '../metrics/rolling-window.js';
import type { RequestMetrics } from '../metrics/request-metrics.js';
import type { Proxy } from '../proxy/proxy.js';
import type { TableSpec } from '../proxy/routing-table.js';
import type { Instance } from '../runtime/instance.js';
import type { Supervisor } from '../runtime/supervisor.js';
import type { DeploymentRow, ReleaseRow, ReleaseSpec, Store } from '../store/index.js';
import { instanceCount, parseDeployRequest, releaseSpecFor, VERSION_LABEL } from './deploy-request.js';
import { DeploymentRun, type HookName } from './deployment-run.js';
import { DeployError, unknownService } from './errors.js';
import { HookRunner } from './hook-runner.js';
import { runCheck } from './analysis/checks.js';
import { combine, judge, type Verdict } from './analysis/judge.js';
import { emptyRouting, releaseNames, serviceSpecFor, type Routing } from './routing.js';
import type { Step } from './steps.js';
import { plan } from './strategies/index.js';

interface Standby {
  release: ReleaseRow;
  timer: NodeJS.Timeout;
  until: number;
}

export interface ControllerDeps {
  store: Store;
  health: HealthChecker;
  metrics: RequestMetrics;
  supervisor: Supervisor;
  proxy: Proxy;
  log: Logger;
}

export class Controller {
  private readonly routings = new Map<string, Routing>();
  private readonly runs = new Map<string, DeploymentRun>();
  private readonly standbys = new Map<string, Standby>();
  private readonly hooks: HookRunner;

  constructor(
    private config: Config,
    private readonly deps: ControllerDeps,
  ) {
    this.hooks = new HookRunner(deps.store, deps.log);
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

  routing(service: string): Routing {
    return this.routings.get(service) ?? emptyRouting();
  }

  activeRun(service: string): DeploymentRun | undefined {
    const run = this.runs.get(service);
    return run?.isActive ? run : undefined;
  }

  /** The count `scale` set (kept in the store across restarts), if any. */
  private scaledCount(service: string): number | undefined {
    return this.deps.store.scaledInstances(service) ?? undefined;
  }

  /** How many instances the stable release should run: the config's count, or what `scale` set. */
  wantedInstances(service: string): number {
    const config = this.serviceConfig(service);
    const stable = this.deps.store.stableRelease(service);
    return stable ? instanceCount(config, stable.spec, this.scaledCount(service)) : (config.targets?.length ?? config.instances);
  }

  standbyOf(service: string): { release: ReleaseRow; until: number } | undefined {
    return this.standbys.get(service);
  }

  /** Swaps in a table built from every service's routing (one assignment, invariant 6). */
  applyTable(): void {
    const spec: TableSpec = { services: [] };
    for (const [name, config] of Object.entries(this.config.services)) {
      spec.services.push(serviceSpecFor(name, config, this.routing(name)));
    }
    this.deps.proxy.swap(spec);
  }

  /** New settings for services (reload); a running deployment keeps going with them. */
  updateConfig(config: Config): void {
    this.config = config;
    for (const [name, service] of Object.entries(config.services)) {
      const policy = healthPolicy(service);
      for (const instance of this.deps.supervisor.instances({ service: name })) this.deps.health.updatePolicy(instance.endpoint, policy);
    }
    this.applyTable();
  }

  /** A deploy request: validated whole before anything is written. */
  deploy(service: string, body: unknown): DeploymentRow {
    const config = this.serviceConfig(service);
    const request = parseDeployRequest(body);
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
    const fresh = plan(strategy, { stableCount, targetCount: instanceCount(config, target.spec, this.scaledCount(service)), deploy: config.deploy, skipPauses });
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
   * else a fast rolling deployment without pauses. During a deployment it is the same as abort.
   */
  rollback(service: string, to?: string): DeploymentRow {
    this.serviceConfig(service);
    const active = this.activeRun(service);
    if (active) {
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
    if (standby && standby.release.id === target.id) {
      clearTimeout(standby.timer);
      this.standbys.delete(service);
      const instant: Step[] = [
        { kind: 'route', rotation: { target: 'all', stable: 0 }, weights: { mode: 'percent', target: 100 }, preview: false },
        { kind: 'promote' },
        { kind: 'stop', release: 'stable', count: 'all' },
      ];
      return this.begin(service, target, 'blue-green', 'rollback', true, instant);
    }
    return this.begin(service, target, 'rolling', 'rollback', true);
  }

  /** Changes the stable release's instance count; scaling down drains first. */
  async scale(service: string, count: unknown): Promise<{ from: number; to: number }> {
    const config = this.serviceConfig(service);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 256) {
      throw new DeployError('invalid_field', 'instances must be a whole number from 1 to 256', 'instances');
    }
    this.refuseIfBusy(service);
    const stable = this.deps.store.stableRelease(service);
    if (stable === undefined) throw new DeployError('not_possible', `${service} has no stable release yet`);
    if (stable.spec.kind === 'static') throw new DeployError('not_possible', 'a service with static targets scales by deploying a new target list', 'instances');
    const { supervisor, store } = this.deps;
    const current = supervisor.instances({ releaseId: stable.id });
    store.setScaledInstances(service, count);
    store.addEvent({ service, type: 'service.scaled', message: `${service}: scaling ${stable.version} from ${current.length} to ${count} instances` });
    if (count > current.length) {
      const started = await Promise.all(Array.from({ length: count - current.length }, () => supervisor.start(service, config, stable)));
      const routing = this.routing(service);
      this.setRouting(service, { ...routing, inRotation: new Set([...routing.inRotation, ...started]) });
    } else if (count < current.length) {
      const leaving = current.slice(count);
      const routing = this.routing(service);
      this.setRouting(service, { ...routing, inRotation: new Set([...routing.inRotation].filter((i) => !leaving.includes(i))) });
      await Promise.all(leaving.map((i) => supervisor.stop(i, config)));
    }
    return { from: current.length, to: count };
  }

  /** Brings a service's stable release up (used at start, after recovery). */
  async startStable(service: string): Promise<void> {
    const config = this.serviceConfig(service);
    const { store, supervisor } = this.deps;
    const stable = store.stableRelease(service);
    if (stable === undefined) {
      const spec: ReleaseSpec = config.targets !== undefined ? { kind: 'static', targets: config.targets } : releaseSpecFor(config, { version: config.run!.version, env: {} });
      const release = store.createRelease(service, config.run?.version ?? 'static', spec);
      await this.runs.get(service)?.finished;
      const row = this.begin(service, release, 'rolling', 'deploy', true, [
        { kind: 'start', release: 'target', count: instanceCount(config, spec, undefined) },
        { kind: 'route', rotation: { target: 'all', stable: 0 }, weights: { mode: 'instances' }, preview: false },
        { kind: 'promote' },
      ]);
      const final = await this.runs.get(service)!.finished;
      if (final.state === 'succeeded') this.deps.log.info({ service, deployment: row.id }, 'first release deployed');
      return;
    }
    const count = instanceCount(config, stable.spec, this.scaledCount(service));
    store.addEvent({ service, type: 'service.starting', message: `${service}: starting ${count} instance(s) of stable ${stable.version} (release ${stable.number})` });
    const results = await Promise.allSettled(Array.from({ length: count }, () => supervisor.start(service, config, stable)));
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const r of results) {
      if (r.status === 'rejected') store.addEvent({ service, type: 'service.degraded', message: `${service}: an instance of ${stable.version} did not start: ${String(r.reason)}` });
    }
    this.setRouting(service, { inRotation: new Set(started), weights: null, previewRelease: null });
  }

  /** Daemon stop: deployments are left as they are (recovery rolls them back); instances drain and stop. */
  async shutdown(): Promise<void> {
    for (const standby of this.standbys.values()) clearTimeout(standby.timer);
    this.standbys.clear();
    await this.deps.supervisor.stopAll((service) => this.config.services[service]);
  }

  private setRouting(service: string, routing: Routing): void {
    this.routings.set(service, routing);
    this.applyTable();
  }

  private runContext(service: string) {
    return {
      service,
      store: this.deps.store,
      supervisor: this.deps.supervisor,
      config: () => this.serviceConfig(service),
      routing: () => this.routing(service),
      applyRouting: (next: Routing) => this.setRouting(service, next),
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
  private keepOnStandby(service: string, release: ReleaseRow, delayMs: number, deploymentId: number): void {
    const { store, supervisor, log } = this.deps;
    store.addEvent({ service, deploymentId, type: 'release.standby', message: `${release.version} stays up for ${Math.round(delayMs / 1000)} s: a rollback now is one table swap` });
    const timer = setTimeout(() => {
      this.standbys.delete(service);
      const config = this.serviceConfig(service);
      const idle = supervisor.instances({ releaseId: release.id }).filter((i: Instance) => !this.routing(service).inRotation.has(i));
      void Promise.all(idle.map((i) => supervisor.stop(i, config)))
        .then(async () => {
          store.addEvent({ service, deploymentId, type: 'release.retired', message: `${release.version} stopped after its standby time` });
          const stable = store.stableRelease(service);
          if (stable) await this.hooks.run(service, config, 'postDeploy', stable, release, deploymentId);
        })
        .catch((err: unknown) => log.error({ err, service }, 'retiring the standby release failed'));
    }, delayMs);
    timer.unref();
    this.standbys.set(service, { release, timer, until: Date.now() + delayMs });
  }

  private previousRelease(service: string, stable: ReleaseRow): ReleaseRow | undefined {
    const { store } = this.deps;
    const last = store.deployments(service, 50).find((d) => d.state === 'succeeded' && d.toReleaseId === stable.id && d.fromReleaseId !== null);
    return last?.fromReleaseId == null ? undefined : store.release(last.fromReleaseId);
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

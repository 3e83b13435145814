// The controller process's parts, wired: store, health checks, supervisor, controller, metrics merged
// from every proxy worker, and the admin API on the socket the keeper handed down. It serves no client
// traffic; it reaches the proxies only through the WorkerFleet (tables out, reports in).
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { DaemonView } from '../../api/daemon-view.js';
import type { ReloadView, RoutingView } from '../../api/wire.js';
import { adminRoutes } from '../../api/routes.js';
import type { Config } from '../../config/index.js';
import { Controller } from '../../deploy/controller.js';
import { HealthChecker } from '../../health/active-checker.js';
import { LoopMonitor } from '../../metrics/loop-health.js';
import { createMetricsRegistry } from '../../metrics/prometheus.js';
import { RequestMetrics } from '../../metrics/request-metrics.js';
import type { Instance } from '../../runtime/instance.js';
import { Supervisor } from '../../runtime/supervisor.js';
import { SqliteStore, StoreError, type Store } from '../../store/index.js';
import type { ControllerStart, FromController, ToController, UpgradeAnswer } from '../ipc/messages.js';
import type { UpgradeStatus } from '../keeper/generations.js';
import { CertificateError } from '../../certificates/certificate-check.js';
import { CertificateManager } from '../../certificates/certificate-manager.js';
import { registerTlsMetrics } from '../../metrics/tls-metrics.js';
import { logEvent } from '../event-log.js';
import { reloadMessage } from '../reload-summary.js';
import { StartError } from '../start-error.js';
import { closeAdminApi, serveAdminApi } from './admin-api.js';
import { reloadConfig } from './reload.js';
import { WorkerFleet } from './worker-fleet.js';
import { workerSettings } from './worker-settings.js';

export interface ControlPlaneOptions {
  config: Config;
  configFile: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  start: ControllerStart;
  send: (message: FromController) => void;
}

export class ControlPlane {
  private admin: Server | null = null;
  private stopped: Promise<void> | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  /** This process's own event-loop delay and GC pauses, counted like a worker's. */
  private loop: { monitor: LoopMonitor; timer: NodeJS.Timeout } | null = null;
  private upgradeStatus: UpgradeStatus | null;
  private readonly upgradeAnswers = new Map<number, (answer: UpgradeAnswer) => void>();
  private nextUpgradeRequest = 1;
  /** Failed TLS handshakes per listener, summed over every worker's reports. */
  private readonly handshakeFailures: Record<string, number> = {};

  private constructor(
    private config: Config,
    private readonly options: ControlPlaneOptions,
    readonly log: Logger,
    readonly store: Store,
    readonly fleet: WorkerFleet,
    readonly health: HealthChecker<Instance>,
    readonly controller: Controller,
    readonly metrics: RequestMetrics,
    readonly certificates: CertificateManager,
  ) {
    this.upgradeStatus = options.start.upgrade;
  }

  /** Opens the store and wires the parts; `run()` then brings everything up. */
  static create(options: ControlPlaneOptions): ControlPlane {
    const { config, log, start } = options;
    let store: Store;
    try {
      store = SqliteStore.open(config.state);
    } catch (err) {
      throw err instanceof StoreError ? new StartError(err.message) : err;
    }
    const metrics = new RequestMetrics();
    const fleet = new WorkerFleet(options.send, workerSettings(config), start.tableVersion, start.workers);
    const health = new HealthChecker<Instance>();
    const supervisor = new Supervisor({ store, health, drain: (id, ms) => fleet.drain(id, ms), stateDir: config.state, log });
    const controller = new Controller(config, { store, health, metrics, supervisor, dataPlane: fleet, log });
    let certificates: CertificateManager;
    try {
      certificates = new CertificateManager(config, (snapshot) => options.send({ t: 'tls', snapshot }), log.child({ part: 'certificates' }));
    } catch (err) {
      store.close();
      throw err instanceof CertificateError ? new StartError(err.message) : err;
    }
    store.subscribe((event) => logEvent(log, event));
    return new ControlPlane(config, options, log, store, fleet, health, controller, metrics, certificates);
  }

  /**
   * Recovers, brings every service's stable release up, then serves the admin API. Workers' reports
   * must reach `handle` meanwhile: bringing a service up waits for their acknowledgements.
   */
  async run(): Promise<void> {
    const { store, controller } = this;
    // Certificates reach the workers before their first table, so TLS listeners serve from the start.
    this.certificates.start();
    for (const name of controller.serviceNames()) store.ensureService(name);
    await controller.recover();
    await Promise.all(controller.serviceNames().map((name) => controller.startStable(name)));
    await this.serveAdmin();
  }

  get stateDir(): string {
    return this.config.state;
  }

  /** A message from the keeper: the worker set, or a worker's report. */
  handle(message: ToController): void {
    if (this.fleet.onKeeperMessage(message)) return;
    switch (message.t) {
      case 'observations':
        this.fleet.onObservations(message);
        this.metrics.merge(message.batch);
        for (const [listener, count] of Object.entries(message.handshakeFailures)) this.handshakeFailures[listener] = (this.handshakeFailures[listener] ?? 0) + count;
        for (const e of message.ejections) {
          this.store.addEvent({ service: e.service, instanceId: e.endpoint, type: 'instance.ejected', message: `${e.endpoint}: ejected for ${e.forMs} ms after consecutive failures (proxy ${message.worker})` });
        }
        return;
      case 'shutdown':
        return void this.stop().then(() => process.exit(0));
      case 'reload':
        return void this.reload();
      case 'retire':
        // Another generation takes over: leave now, mid-step if need be; it adopts and resumes.
        this.log.info('another generation takes over; this controller leaves');
        return process.exit(0);
      case 'upgrade-status':
        return this.noteUpgrade(message.status);
      case 'upgrade-answer':
        this.upgradeAnswers.get(message.id)?.(message);
        this.upgradeAnswers.delete(message.id);
        return;
      case 'start':
        return;
    }
  }

  /** Asks the keeper to start the next generation; resolves with its answer. */
  upgrade(): Promise<UpgradeAnswer> {
    const id = this.nextUpgradeRequest++;
    return new Promise((resolve) => {
      this.upgradeAnswers.set(id, resolve);
      this.options.send({ t: 'upgrade', id });
    });
  }

  private noteUpgrade(status: UpgradeStatus): void {
    const before = this.upgradeStatus;
    this.upgradeStatus = status;
    if (before?.generation === status.generation && before.state === status.state) return;
    const what =
      status.state === 'in-progress'
        ? { type: 'daemon.upgrade-started', message: `upgrade to generation ${status.generation} started` }
        : status.state === 'succeeded'
          ? { type: 'daemon.upgraded', message: `generation ${status.generation} serves (upgrade took ${Math.round((Date.parse(status.finishedAt ?? '') - Date.parse(status.startedAt)) / 100) / 10} s)` }
          : { type: 'daemon.upgrade-failed', message: `upgrade to generation ${status.generation} failed: ${status.reason}; generation ${status.generation - 1} serves on` };
    this.store.addEvent(what);
  }

  /** The proxies' own tables: the one in force (the oldest any proxy has) and each worker's. */
  routing(): Promise<RoutingView> {
    return this.fleet.routing();
  }


  /** This daemon and its processes, for `GET /api/v1/daemon`. */
  daemon(): DaemonView {
    const { start } = this.options;
    return {
      version: start.version,
      generation: start.generation,
      state: this.config.state,
      upgrade: this.upgradeStatus,
      ...this.fleet.processes({ pid: start.keeperPid, startedAt: start.keeperStartedAt }),
    };
  }

  /** Re-reads the config file; an invalid file changes nothing. */
  reload(): ReloadView {
    const before = this.config;
    const reloaded = reloadConfig(before, this.options, this.fleet, this.log);
    if ('problems' in reloaded) return { ok: false, problems: reloaded.problems };
    const { next, summary } = reloaded;
    this.config = next;
    void this.controller.updateConfig(next);
    this.followServiceChanges(before, next);
    this.store.addEvent({ type: 'config.reloaded', message: reloadMessage(summary), data: summary });
    return { ok: true, ...summary };
  }

  /** Daemon stop (the workers have drained already): every instance drains and stops, the store closes. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.log.info('stopping the app instances');
      if (this.pruneTimer) clearInterval(this.pruneTimer);
      if (this.loop) {
        clearInterval(this.loop.timer);
        this.loop.monitor.stop();
      }
      this.certificates.stop();
      await closeAdminApi(this.admin);
      await this.controller.shutdown();
      await this.health.close();
      this.store.close();
      this.log.info('stopped');
    })();
    return this.stopped;
  }

  /** New services start; static target lists that changed roll out as a new release. */
  private followServiceChanges(before: Config, next: Config): void {
    for (const [name, service] of Object.entries(next.services)) {
      const old = before.services[name];
      if (old === undefined) {
        this.store.ensureService(name);
        void this.controller.startStable(name).catch((err: unknown) => this.log.error({ err, service: name }, 'starting a new service failed'));
      } else if (service.targets && JSON.stringify(service.targets) !== JSON.stringify(old.targets)) {
        void this.rollOutTargets(name);
      }
    }
  }

  /** Deploys the config's target list for a service, after any deployment in progress has ended. */
  private async rollOutTargets(name: string): Promise<void> {
    await this.controller.activeRun(name)?.finished;
    const targets = this.config.services[name]?.targets;
    const stable = this.store.stableRelease(name);
    // The newest file wins: a later reload may have changed the list again, or back.
    if (!targets || (stable?.spec.kind === 'static' && JSON.stringify(stable.spec.targets) === JSON.stringify(targets))) return;
    if (this.controller.activeRun(name)) return void (await this.rollOutTargets(name));
    try {
      await this.controller.deploy(name, { version: 'static', targets });
    } catch (err) {
      this.log.error({ err, service: name }, 'could not roll out the new targets');
    }
  }

  /** Metric series of releases no longer routed (and quiet for the whole window) go with their release. */
  private pruneMetrics(): void {
    const routed = new Set(this.controller.publishedTable().services.flatMap((s) => s.releases.map((r) => `${s.name}\0${r.name}`)));
    this.metrics.prune(Math.floor(Date.now() / 1000), (service, release) => routed.has(`${service}\0${release}`));
  }

  private async serveAdmin(): Promise<void> {
    const { config } = this;
    const { start } = this.options;
    const dataPlane = { table: () => this.controller.publishedTable(), endpoint: (id: string) => this.fleet.endpoint(id) };
    const registry = createMetricsRegistry(this.metrics, dataPlane, () =>
      this.controller.serviceNames().map((name) => [name, this.controller.activeRun(name)?.row.state ?? 'idle'] as [string, string]),
    );
    registerTlsMetrics(registry, { certificates: () => this.certificates.views(), handshakeFailures: () => this.handshakeFailures });
    this.pruneTimer = setInterval(() => this.pruneMetrics(), 60_000);
    this.pruneTimer.unref();
    const monitor = new LoopMonitor('controller');
    this.loop = { monitor, timer: setInterval(() => this.metrics.addLoop(monitor.take()), 1000).unref() };
    this.admin = await serveAdminApi(config, adminRoutes(this, registry), start.admin.fd, this.log);
    this.log.info(
      {
        proxy: start.listeners.map((l) => `${l.address}:${l.port}`),
        admin: `${start.admin.address}:${start.admin.port}`,
        services: Object.keys(config.services),
        accessLog: config.proxy.accessLog.enabled ? workerSettings(config).accessLog.destination : 'off',
        tls: this.certificates.hasTls || undefined,
        workers: start.workers.length,
        generation: start.generation,
      },
      'switchyard is up',
    );
  }
}

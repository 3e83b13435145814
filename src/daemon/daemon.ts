// The daemon wires the parts together: config, store, proxy, health checks, supervisor, controller,
// admin API, metrics and the access log; then start-up recovery, reload and graceful stop.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { createAdminServer, listenOn } from '../api/admin-server.js';
import { TokenAuth } from '../api/auth.js';
import { adminRoutes } from '../api/routes.js';
import type { RoutingView } from '../api/wire.js';
import { ConfigError, loadConfig, parseHostPort, type Config } from '../config/index.js';
import { Controller } from '../deploy/controller.js';
import { recover } from '../deploy/recovery.js';
import { HealthChecker } from '../health/active-checker.js';
import { createMetricsRegistry } from '../metrics/prometheus.js';
import { RequestMetrics } from '../metrics/request-metrics.js';
import { AccessLog, combineObservers, createAccessLogger } from '../proxy/access-log.js';
import type { ExchangeObserver } from '../proxy/proxy-context.js';
import { describeTable } from '../proxy/describe-table.js';
import { upstreamClient } from '../proxy/upstream/choose-client.js';
import { Proxy } from '../proxy/proxy.js';
import { Supervisor } from '../runtime/supervisor.js';
import { Store, StoreError } from '../store/index.js';
import { StartError } from './start-error.js';

export interface DaemonOptions {
  configFile: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface ReloadResult {
  ok: boolean;
  problems?: string;
  /** Settings that only take effect after a restart. */
  needsRestart?: string[];
}

export class Daemon {
  proxyAddresses: AddressInfo[] = [];
  adminAddress: AddressInfo | null = null;
  private admin: Server | null = null;
  private stopped: Promise<void> | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;

  private constructor(
    private config: Config,
    private readonly options: DaemonOptions,
    readonly log: Logger,
    readonly store: Store,
    readonly proxy: Proxy,
    readonly health: HealthChecker,
    readonly controller: Controller,
    readonly metrics: RequestMetrics,
    private readonly accessLog: AccessLog | null,
  ) {}

  /** Loads the config, recovers state, brings every service's stable release up, then listens. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const log = options.logger ?? pino({ base: null }, pino.destination(2));
    const config = loadConfig(options.configFile, options.env);
    let store: Store;
    try {
      store = Store.open(config.state);
    } catch (err) {
      throw err instanceof StoreError ? new StartError(err.message) : err;
    }
    const metrics = new RequestMetrics();
    const observers: ExchangeObserver[] = [metrics];
    const accessLog = config.proxy.accessLog.enabled ? new AccessLog(createAccessLogger(config.proxy.accessLog.destination)) : null;
    if (accessLog) observers.push(accessLog);
    const proxy = new Proxy({
      limits: config.proxy.limits,
      dropServerHeader: config.proxy.dropServerHeader,
      observer: combineObservers(observers),
      events: {
        onEjected: (service, endpoint, forMs) => {
          store.addEvent({ service, instanceId: endpoint.id, type: 'instance.ejected', message: `${endpoint.id}: ejected for ${forMs} ms after consecutive failures` });
        },
      },
    });
    const health = new HealthChecker();
    const supervisor = new Supervisor({ store, endpoints: proxy.endpoints, health, drain: (e, ms) => proxy.drain(e, ms), stateDir: config.state, log });
    const controller = new Controller(config, { store, health, metrics, supervisor, proxy, log });
    const daemon = new Daemon(config, options, log, store, proxy, health, controller, metrics, accessLog);
    store.subscribe((event) => log.info({ service: event.service ?? undefined, type: event.type }, event.message));
    await recover(store, log);
    for (const name of controller.serviceNames()) store.ensureService(name);
    await Promise.all(controller.serviceNames().map((name) => controller.startStable(name)));
    try {
      await daemon.listen();
    } catch (err) {
      // Nothing may stay running behind a daemon that could not start (instances, checks, the store).
      await daemon.stop();
      throw new StartError(listenProblem(err));
    }
    return daemon;
  }

  get stateDir(): string {
    return this.config.state;
  }

  /** Re-reads the config file; an invalid file changes nothing. */
  routing(): RoutingView {
    return describeTable(this.proxy.table, Date.now());
  }

  reload(): ReloadResult {
    let next: Config;
    try {
      next = loadConfig(this.options.configFile, this.options.env);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.message : String(err);
      this.log.error({ problems }, 'reload refused: the config is invalid; the running config stays');
      return { ok: false, problems };
    }
    const needsRestart: string[] = [];
    for (const key of ['proxy', 'admin', 'state'] as const) {
      if (JSON.stringify(next[key]) !== JSON.stringify(this.config[key])) needsRestart.push(key);
    }
    const before = this.config;
    this.config = next;
    this.controller.updateConfig(next);
    this.followServiceChanges(before, next);
    this.store.addEvent({ type: 'config.reloaded', message: needsRestart.length ? `config reloaded; restart to apply ${needsRestart.join(', ')}` : 'config reloaded' });
    return needsRestart.length > 0 ? { ok: true, needsRestart } : { ok: true };
  }

  /** Graceful stop: no new connections; in-flight work may finish within the longest drain timeout. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      const timeout = Math.max(1000, ...Object.values(this.config.services).map((s) => s.drain.timeout));
      this.log.info({ inFlight: this.proxy.inFlight, timeoutMs: timeout }, 'stopping');
      if (this.pruneTimer) clearInterval(this.pruneTimer);
      // Event streams (dashboards, `deploy` following along) never end by themselves: cut them now.
      const adminClosed = new Promise<void>((resolve) => (this.admin ? this.admin.close(() => resolve()) : resolve()));
      this.admin?.closeAllConnections();
      await adminClosed;
      const { cut } = await this.proxy.close(timeout);
      await this.controller.shutdown();
      await this.health.close();
      this.accessLog?.flush();
      this.store.close();
      this.log.info({ cut }, 'stopped');
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
      this.controller.deploy(name, { version: 'static', targets });
    } catch (err) {
      this.log.error({ err, service: name }, 'could not roll out the new targets');
    }
  }

  private async listen(): Promise<void> {
    const { config } = this;
    this.proxyAddresses = await this.proxy.listen(config.proxy.listen.map((l) => parseHostPort(l)));
    const registry = createMetricsRegistry(this.metrics, () => this.proxy.table, () =>
      this.controller.serviceNames().map((name) => [name, this.controller.activeRun(name)?.row.state ?? 'idle'] as [string, string]),
    );
    this.pruneTimer = setInterval(() => this.metrics.prune(Math.floor(Date.now() / 1000)), 60_000);
    this.pruneTimer.unref();
    const admin = createAdminServer({
      router: adminRoutes(this, registry),
      auth: new TokenAuth(readToken(config)),
      onError: (err) => this.log.error({ err }, 'admin API error'),
      onAuthFailure: (address, path, blocked) =>
        this.log.warn({ address, path, blocked }, blocked ? 'admin API: too many wrong tokens; address blocked for a minute' : 'admin API: missing or wrong token'),
    });
    const { host, port } = parseHostPort(config.admin.listen);
    this.adminAddress = await listenOn(admin, host, port);
    this.admin = admin;
    const client = upstreamClient();
    if (client.kind === 'undici') {
      this.log.warn(
        { node: process.version, reason: client.reason },
        "upstream client: Node's internal HTTP parser failed switchyard's self-test on this Node; proxying through undici's public dispatch instead (correct, somewhat slower)",
      );
    }
    this.log.info(
      {
        proxy: this.proxyAddresses.map((a) => `${a.address}:${a.port}`),
        admin: `${this.adminAddress.address}:${this.adminAddress.port}`,
        services: Object.keys(config.services),
      },
      'switchyard is up',
    );
  }
}

function readToken(config: Config): string | null {
  if (config.admin.token !== undefined) return config.admin.token;
  if (config.admin.tokenFile !== undefined) {
    const token = readFileSync(config.admin.tokenFile, 'utf8').trim();
    if (token.length < 16) throw new Error(`${config.admin.tokenFile}: the admin token must be at least 16 characters`);
    return token;
  }
  return null;
}

function listenProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.path !== undefined) return `cannot read ${e.path}: ${e.code ?? e.message}`;
  const where = `${e.address ?? ''}:${e.port ?? ''}`;
  if (e.code === 'EADDRINUSE') return `cannot listen on ${where}: the address is already in use`;
  if (e.code === 'EACCES') return `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: this host has no such address`;
  return err instanceof Error ? err.message : String(err);
}

// The daemon wires the parts together: config → routing table → proxy listeners, health checks, the
// admin API, metrics, the access log, reload and graceful stop.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { createAdminServer, listenOn } from '../api/admin-server.js';
import { TokenAuth } from '../api/auth.js';
import { adminRoutes, type AdminActions } from '../api/routes.js';
import { ConfigError, loadConfig, parseHostPort, type Config } from '../config/index.js';
import { HealthChecker } from '../health/active-checker.js';
import { createMetricsRegistry } from '../metrics/prometheus.js';
import { RequestMetrics } from '../metrics/request-metrics.js';
import { AccessLog, combineObservers, createAccessLogger } from '../proxy/access-log.js';
import type { Endpoint } from '../proxy/endpoint.js';
import type { ExchangeObserver } from '../proxy/proxy-context.js';
import { Proxy } from '../proxy/proxy.js';
import type { RoutingTable } from '../proxy/routing-table.js';
import { healthPolicy, staticTableSpec } from './service-policy.js';

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

export class Daemon implements AdminActions {
  readonly health = new HealthChecker();
  proxyAddresses: AddressInfo[] = [];
  adminAddress: AddressInfo | null = null;
  private admin: Server | null = null;
  private stopped: Promise<void> | null = null;

  private constructor(
    private config: Config,
    private readonly options: DaemonOptions,
    readonly log: Logger,
    readonly proxy: Proxy,
    readonly metrics: RequestMetrics,
    private readonly accessLog: AccessLog | null,
  ) {}

  /** Loads the config, starts health checks, waits for their first results, then listens. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const log = options.logger ?? pino({ base: null }, pino.destination(2));
    const config = loadConfig(options.configFile, options.env);
    const metrics = new RequestMetrics();
    const observers: ExchangeObserver[] = [metrics];
    let accessLog: AccessLog | null = null;
    if (config.proxy.accessLog.enabled) {
      accessLog = new AccessLog(createAccessLogger(config.proxy.accessLog.destination));
      observers.push(accessLog);
    }
    const proxy = new Proxy({
      limits: config.proxy.limits,
      dropServerHeader: config.proxy.dropServerHeader,
      observer: combineObservers(observers),
      events: {
        onEjected: (service, endpoint, forMs) =>
          log.warn({ service, instance: endpoint.id, forMs }, 'instance ejected after consecutive failures'),
      },
    });
    const daemon = new Daemon(config, options, log, proxy, metrics, accessLog);
    daemon.health.onChange((endpoint, healthy, result) =>
      log.info({ instance: endpoint.id, healthy, check: result.detail }, healthy ? 'instance healthy' : 'instance unhealthy'),
    );
    const table = daemon.applyConfig(config);
    await Promise.all([...table.endpoints()].map((e) => daemon.health.firstProbe(e)));
    await daemon.listen();
    return daemon;
  }

  get table(): RoutingTable {
    return this.proxy.table;
  }

  /** Re-reads the config file; an invalid file changes nothing. */
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
    if (JSON.stringify(next.proxy) !== JSON.stringify(this.config.proxy)) needsRestart.push('proxy');
    if (JSON.stringify(next.admin) !== JSON.stringify(this.config.admin)) needsRestart.push('admin');
    this.applyConfig(next);
    this.log.info({ needsRestart }, 'config reloaded');
    return needsRestart.length > 0 ? { ok: true, needsRestart } : { ok: true };
  }

  /** Graceful stop: no new connections; in-flight work may finish within the longest drain timeout. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      const timeout = Math.max(1000, ...Object.values(this.config.services).map((s) => s.drain.timeout));
      this.log.info({ inFlight: this.proxy.inFlight, timeoutMs: timeout }, 'stopping');
      await new Promise<void>((resolve) => (this.admin ? this.admin.close(() => resolve()) : resolve()));
      this.admin?.closeAllConnections();
      const { cut } = await this.proxy.close(timeout);
      await this.health.close();
      this.accessLog?.flush();
      this.log.info({ cut }, 'stopped');
    })();
    return this.stopped;
  }

  /** Swaps in the table the config describes; endpoints that left it are drained, then retired. */
  private applyConfig(config: Config): RoutingTable {
    const before = this.proxy.table.endpoints();
    this.config = config;
    const table = this.proxy.swap(staticTableSpec(config));
    const after = table.endpoints();
    for (const service of table.services.values()) {
      const policy = healthPolicy(config.services[service.name]!);
      for (const release of service.releases) {
        for (const endpoint of release.endpoints) this.health.watch(endpoint, policy);
      }
    }
    for (const endpoint of before) {
      if (!after.has(endpoint)) void this.retire(endpoint, config);
    }
    return table;
  }

  private async retire(endpoint: Endpoint, config: Config): Promise<void> {
    const service = Object.entries(config.services).find(([name]) => endpoint.id.startsWith(`${name}/`))?.[1];
    const report = await this.proxy.drain(endpoint, service?.drain.timeout ?? 30_000);
    this.health.unwatch(endpoint);
    await this.proxy.endpoints.retire(endpoint);
    this.log.info({ instance: endpoint.id, ...report }, 'instance drained and removed');
  }

  private async listen(): Promise<void> {
    const { config } = this;
    this.proxyAddresses = await this.proxy.listen(config.proxy.listen.map((l) => parseHostPort(l)));
    const token = readToken(config);
    const registry = createMetricsRegistry(this.metrics, () => this.proxy.table);
    const admin = createAdminServer({
      router: adminRoutes(this, registry),
      auth: new TokenAuth(token),
      onError: (err) => this.log.error({ err }, 'admin API error'),
    });
    const { host, port } = parseHostPort(config.admin.listen);
    this.adminAddress = await listenOn(admin, host, port);
    this.admin = admin;
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

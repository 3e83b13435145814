// The controller process of one cluster host: the host agent always (instances, reports, tables), and the
// cluster's controller (deployments, API commands) while this host leads. Desired state is in etcd;
// commands sent to a follower are forwarded to the leader. The single-host ControlPlane is untouched.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClusterDaemonView, DaemonView } from '../api/daemon-view.js';
import { ApiError } from '../api/api-error.js';
import { adminRoutes } from '../api/routes.js';
import type { ReloadView, RoutingView } from '../api/wire.js';
import { Router, type RouteHandler } from '../api/router.js';
import { CertificateManager } from '../certificates/certificate-manager.js';
import type { ClusterConfig, Config } from '../config/index.js';
import { Controller } from '../deploy/controller.js';
import { closeAdminApi, serveAdminApi } from '../daemon/controller/admin-api.js';
import { WorkerFleet } from '../daemon/controller/worker-fleet.js';
import type { ControlPlaneOptions } from '../daemon/controller/control-plane.js';
import { reloadConfig } from '../daemon/controller/reload.js';
import { workerSettings } from '../daemon/controller/worker-settings.js';
import { reloadMessage } from '../daemon/reload-summary.js';
import type { ToController } from '../daemon/ipc/messages.js';
import { logEvent } from '../daemon/event-log.js';
import { StartError } from '../daemon/start-error.js';
import { createMetricsRegistry } from '../metrics/prometheus.js';
import { RequestMetrics } from '../metrics/request-metrics.js';
import { EtcdStore } from '../store/etcd/etcd-store.js';
import { StoreError } from '../store/index.js';
import { ClusterDataPlane } from './cluster-data-plane.js';
import { ClusterSupervisor } from './cluster-supervisor.js';
import { ClusterView } from './cluster-view.js';
import { forwardToLeader } from './forward.js';
import { HostAgent } from './host-agent.js';
import { HostLease } from './host-lease.js';
import { LeaderElection } from './leader-election.js';
import type { Fence } from '../store/etcd/write-queue.js';
import { Gauge } from 'prom-client';

interface Leadership {
  controller: Controller;
  supervisor: ClusterSupervisor;
  routes: Router;
  /** Commands are taken once the deployments are taken over and the stable releases run (as on one host). */
  serving: boolean;
}

export class ClusterPlane {
  #leadership: Leadership | null = null;
  /** Services whose joined hosts' instances are being started. */
  readonly #filling = new Set<string>();
  #admin: Server | null = null;
  #registry: Registry | null = null;
  #stopped: Promise<void> | null = null;
  #term = 0;

  private constructor(
    private config: Config,
    private readonly cluster: ClusterConfig,
    private readonly options: ControlPlaneOptions,
    readonly log: Logger,
    readonly store: EtcdStore,
    readonly view: ClusterView,
    readonly lease: HostLease,
    readonly fleet: WorkerFleet,
    readonly metrics: RequestMetrics,
    readonly agent: HostAgent,
    readonly election: LeaderElection,
    readonly certificates: CertificateManager,
  ) {}

  static async create(options: ControlPlaneOptions): Promise<ClusterPlane> {
    const { config, log, start } = options;
    const cluster = config.cluster!;
    const view = new ClusterView();
    const onError = (err: unknown, during: string) => log.warn({ err: String(err), during }, 'etcd call failed; retrying');
    let store: EtcdStore;
    try {
      store = await EtcdStore.open({ endpoints: cluster.etcd, prefix: cluster.prefix, node: cluster.node, others: [view], onError });
    } catch (err) {
      throw err instanceof StoreError ? new StartError(err.message) : err;
    }
    const ttlSeconds = cluster.leaseTtl / 1000;
    const lease = new HostLease(store.client, store.prefix, ttlSeconds, onError);
    const metrics = new RequestMetrics();
    const fleet = new WorkerFleet(options.send, workerSettings(config), start.tableVersion, start.workers);
    let plane: ClusterPlane | null = null;
    const current = () => plane?.config ?? config;
    const agent = new HostAgent({
      node: cluster.node,
      address: cluster.address,
      adminUrl: `http://${cluster.address}:${start.admin.port}`,
      store,
      view,
      lease,
      fleet,
      metrics,
      config: current,
      stateDir: config.state,
      log: log.child({ part: 'agent' }),
    });
    const election = new LeaderElection({
      client: store.client,
      key: `${store.prefix}leader`,
      node: cluster.node,
      ttlSeconds,
      onElected: (fence) => void plane?.lead(fence),
      onDeposed: (why) => plane?.standDown(why),
      onError,
    });
    const certificates = new CertificateManager(config, (snapshot) => options.send({ t: 'tls', snapshot }), log.child({ part: 'certificates' }));
    store.subscribe((event) => logEvent(log, event));
    plane = new ClusterPlane(config, cluster, options, log, store, view, lease, fleet, metrics, agent, election, certificates);
    return plane;
  }

  /** Joins: this host's reports and table first, then the campaign, then the admin API. */
  async run(): Promise<void> {
    this.view.onChange((changes) => {
      if (changes.some((c) => c.kind === 'status' && c.liveness && this.view.isLive(c.node))) this.#fillJoinedHosts();
    });
    this.certificates.start();
    await this.lease.start();
    await this.agent.start();
    this.election.start();
    await this.#serveAdmin();
  }

  get stateDir(): string {
    return this.config.state;
  }

  handle(message: ToController): void {
    if (this.fleet.onKeeperMessage(message)) return;
    switch (message.t) {
      case 'observations':
        return this.agent.onObservations(message);
      case 'shutdown':
        return void this.stop().then(() => process.exit(0));
      case 'reload':
        return void this.reload();
      case 'retire':
        this.log.info('another generation takes over; this controller leaves');
        return process.exit(0);
      case 'upgrade-answer':
      case 'upgrade-status':
      case 'start':
        return;
    }
  }

  /** Elected: catch up on every write of the leader before, adopt the cluster's instances, resume deployments. */
  async lead(fence: Fence): Promise<void> {
    const term = ++this.#term;
    this.store.setFence(fence);
    try {
      await this.store.catchUp();
      if (term !== this.#term) return;
      const dataPlane = new ClusterDataPlane(this.store, this.view);
      const supervisor = new ClusterSupervisor({ store: this.store, view: this.view, drain: (id, ms) => dataPlane.drain(id, ms), log: this.log });
      const controller = new Controller(this.config, {
        store: this.store,
        health: supervisor,
        metrics: this.metrics,
        supervisor,
        dataPlane,
        log: this.log,
        hosts: () => this.view.liveHosts().length,
      });
      const routes = adminRoutes(this.#actions(controller), this.#registry!);
      const leadership: Leadership = { controller, supervisor, routes, serving: false };
      this.#leadership = leadership;
      this.log.info({ node: this.cluster.node, fence: fence.createRevision }, 'this host leads the cluster');
      this.store.addEvent({ type: 'cluster.leader', message: `${this.cluster.node} leads the cluster (term ${fence.createRevision})` });
      for (const name of controller.serviceNames()) this.store.ensureService(name);
      await controller.recover();
      await Promise.all(controller.serviceNames().map((name) => controller.startStable(name)));
      leadership.serving = term === this.#term;
    } catch (err) {
      // A term already over (deposed while taking the lead) is not this term's failure to act on.
      if (term !== this.#term) return;
      this.log.error({ err }, 'taking the lead failed; standing down');
      this.election.stop().then(() => this.election.start()).catch(() => {});
    }
  }

  /**
   * A host joined: a service placed per host starts the joined host's share now (placement spreads the
   * missing instances onto the host that has fewest), unless a deployment runs, which counts hosts itself.
   */
  #fillJoinedHosts(): void {
    const leadership = this.#leadership;
    if (leadership?.serving !== true) return;
    for (const [name, service] of Object.entries(this.config.services)) {
      if (service.placement !== 'perHost' || this.#filling.has(name)) continue;
      this.#filling.add(name);
      leadership.controller
        .startStable(name)
        .catch((err: unknown) => this.log.warn({ err: String(err), service: name }, 'starting the joined host\'s instances failed'))
        .finally(() => this.#filling.delete(name));
    }
  }

  /** Deposed (lease lost, paused, cut off): stop writing and acting at once; the next leader resumes. */
  standDown(why: string): void {
    this.#term++;
    this.store.depose(why);
    const leadership = this.#leadership;
    this.#leadership = null;
    leadership?.controller.standDown();
    leadership?.supervisor.close();
    this.log.warn({ why }, 'this host no longer leads the cluster');
  }

  reload(): ReloadView {
    const reloaded = reloadConfig(this.config, this.options, this.fleet, this.log);
    if ('problems' in reloaded) return { ok: false, problems: reloaded.problems };
    const { next, summary } = reloaded;
    this.config = next;
    void this.#leadership?.controller.updateConfig(next);
    this.log.info({ ...summary }, reloadMessage(summary));
    return { ok: true, ...summary };
  }

  /** This host's proxies' own tables: the one in force (the oldest any proxy has) and each worker's. */
  routing(): Promise<RoutingView> {
    return this.fleet.routing();
  }


  daemon(): DaemonView {
    const { start } = this.options;
    return {
      version: start.version,
      generation: start.generation,
      state: this.store.path,
      upgrade: null,
      ...this.fleet.processes({ pid: start.keeperPid, startedAt: start.keeperStartedAt }),
      cluster: this.clusterView(),
    };
  }

  clusterView(): ClusterDaemonView {
    const { view } = this;
    const nodes = new Set([...view.hosts.keys(), ...this.store.instances({ states: ['starting', 'ready', 'draining'] }).flatMap((r) => (r.node === null ? [] : [r.node]))]);
    return {
      node: this.cluster.node,
      leader: view.leader,
      revision: this.agent.revision,
      hosts: [...nodes].sort().map((node) => {
        const host = view.hosts.get(node);
        return {
          node,
          live: view.isLive(node),
          revision: host?.status?.revision ?? 0,
          instances: [...(host?.instances.values() ?? [])].map((i) => ({ id: i.id, service: i.service, state: i.state, healthy: i.healthy, address: i.address, pid: i.pid })),
        };
      }),
    };
  }

  /** Daemon stop: leave the election (another host leads at once), leave the cluster, stop this host's instances. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await this.election.stop();
      this.certificates.stop();
      await closeAdminApi(this.#admin);
      // The other hosts drop this one's instances as soon as its reports go; give them a moment to.
      const left = Date.now();
      await this.agent.leave(async () => {
        while (Date.now() - left < 1000) await new Promise((resolve) => setTimeout(resolve, 50));
      });
      this.store.close();
      this.log.info('stopped');
    })();
    return this.#stopped;
  }

  #actions(controller: Controller) {
    return {
      controller,
      stateDir: this.config.state,
      reload: () => this.reload(),
      daemon: () => this.daemon(),
      routing: () => this.routing(),
      upgrade: async () => ({ ok: false, message: 'run `switchyard upgrade` against each host of a cluster in turn', status: { generation: 0, state: 'failed' as const, reason: 'cluster', startedAt: new Date().toISOString(), finishedAt: null } }),
      certificates: this.certificates,
      metrics: this.metrics,
    };
  }

  #leaderUrl(): string | null {
    const leader = this.view.leader;
    return leader === null ? null : (this.view.hosts.get(leader)?.status?.adminUrl ?? null);
  }

  async #serveAdmin(): Promise<void> {
    const agent = this.agent;
    const registry = createMetricsRegistry(this.metrics, { table: () => agent.table, endpoint: (id) => this.fleet.endpoint(id) }, () =>
      Object.keys(this.config.services).map((name) => [name, this.#leadership?.controller.activeRun(name)?.row.state ?? 'idle'] as [string, string]),
    );
    new Gauge({ name: 'switchyard_table_revision', help: "The desired-state revision (etcd) this host's routing table is built from", registers: [registry], collect() { this.set(agent.revision); } });
    const leads = () => this.#leadership !== null;
    new Gauge({ name: 'switchyard_cluster_leader', help: '1 while this host leads the cluster', registers: [registry], collect() { this.set(leads() ? 1 : 0); } });
    this.#registry = registry;
    const follower = new Router();
    const forward: RouteHandler = async ({ req, res, body }) => {
      // This host leads but is still taking over (or a forwarded command came back): passing it on would loop.
      if (this.view.leader === this.cluster.node || req.headers['x-switchyard-forwarded'] !== undefined) {
        throw new ApiError(503, 'no_leader', 'the leader is still taking over the deployments; try again in a few seconds');
      }
      await forwardToLeader(req, res, body, this.#leaderUrl());
      return undefined;
    };
    follower.add('GET', '/healthz', () => ({ status: 200, body: { ok: true } }));
    follower.add('GET', '/metrics', async ({ res }) => {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
      return undefined;
    });
    follower.add('GET', '/api/v1/daemon', () => ({ status: 200, body: this.daemon() }));
    follower.add('GET', '/api/v1/cluster', () => ({ status: 200, body: this.clusterView() }));
    follower.add('GET', '/api/v1/routing', async () => ({ status: 200, body: await this.routing() }));
    const routes = new SwitchingRouter(() => (this.#leadership?.serving === true ? this.#leadership.routes : null), follower, forward);
    this.#admin = await serveAdminApi(this.config, routes, this.options.start.admin.fd, this.log);
    this.log.info({ node: this.cluster.node, etcd: this.cluster.etcd, admin: `${this.options.start.admin.address}:${this.options.start.admin.port}` }, 'switchyard is up (cluster mode)');
  }
}

const HOST_LOCAL = new Set(['/healthz', '/metrics', '/api/v1/cluster', '/api/v1/routing', '/api/v1/daemon']);

/** The leader's own routes while it leads; a follower's few local routes, and the rest forwarded. */
class SwitchingRouter extends Router {
  constructor(
    private readonly leading: () => Router | null,
    private readonly local: Router,
    private readonly forward: RouteHandler,
  ) {
    super();
  }

  override find(method: string, path: string): ReturnType<Router['find']> {
    const local = this.local.find(method, path);
    // Questions about this host are answered here, leader or not.
    if (!('allowed' in local) && HOST_LOCAL.has(path)) return local;
    const leading = this.leading();
    if (leading !== null) return leading.find(method, path);
    if (!('allowed' in local)) return local;
    return { handler: this.forward, params: {} };
  }
}

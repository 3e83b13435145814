// The part of switchyard every host of a cluster runs, leader or not: it starts, adopts and stops this
// host's instances to match desired state, checks their health and reports them under its lease, builds
// its proxies' table from desired state and every host's reports, and says which revision that table is
// built from; it ships what its proxies observed each second and adds up what every host shipped.
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { WorkerFleet } from '../daemon/controller/worker-fleet.js';
import type { ObservationsMessage } from '../daemon/ipc/messages.js';
import { healthPolicy } from '../daemon/service-policy.js';
import { HealthChecker, probe } from '../health/active-checker.js';
import type { ObservationBatch } from '../metrics/observations.js';
import type { RequestMetrics } from '../metrics/request-metrics.js';
import type { DrainReport } from '../proxy/drain.js';
import type { TableSpec } from '../proxy/routing-table.js';
import type { Instance } from '../runtime/instance.js';
import { findInstanceProcesses } from '../runtime/leftovers.js';
import { Supervisor } from '../runtime/supervisor.js';
import type { EtcdStore } from '../store/etcd/etcd-store.js';
import { hostKey, type ClusterView, type HostStatus } from './cluster-view.js';
import type { HostLease } from './host-lease.js';
import { compileHostTable } from './host-tables.js';
import { ObservedRecorder } from './observed-recorder.js';

export interface HostAgentDeps {
  node: string;
  /** Where this host's instances listen (other hosts' proxies reach them there). */
  address: string;
  adminUrl: string;
  store: EtcdStore;
  view: ClusterView;
  lease: HostLease;
  fleet: WorkerFleet;
  metrics: RequestMetrics;
  config: () => Config;
  stateDir: string;
  log: Logger;
}

const REPORT_MS = 1000;

export class HostAgent {
  readonly health = new HealthChecker<Instance>();
  readonly supervisor: Supervisor;
  readonly #recorder: ObservedRecorder;
  readonly #starting = new Set<string>();
  readonly #stopping = new Set<string>();
  #revision = 0;
  /**
   * The revision of the newest desired state heard (hosts' own reports move the store's revision too, but
   * change no table): what a table compiled now is built from.
   */
  #desired = 0;
  #compiling = false;
  #again = false;
  #pending: ObservationBatch[] = [];
  #seq = 0;
  readonly #seen = new Map<string, { startedAt: number; seq: number }>();
  #table: TableSpec = { services: [] };
  #timer: NodeJS.Timeout | null = null;
  readonly #startedAt = Date.now();
  #leaving = false;
  /** Instances of hosts that left the cluster, by id: checked once a table without them is in force. */
  readonly #lost = new Map<string, { service: string; address: string }>();
  /** Drains of this host's proxies, per instance desired state says is draining (null: under way). */
  readonly #drains = new Map<string, DrainReport | null>();

  constructor(private readonly deps: HostAgentDeps) {
    this.#recorder = new ObservedRecorder(deps.node, deps.store, deps.lease, this.health, (id) => this.supervisor.get(id));
    // Drains happen before the stop reaches this host: the leader drained every host's proxies.
    const drain = () => Promise.resolve({ finished: 0, cut: 0, durationMs: 0 });
    this.supervisor = new Supervisor({ store: this.#recorder, health: this.health, drain, stateDir: deps.stateDir, log: deps.log, instanceHost: deps.address });
    this.health.onChange((instance) => this.#recorder.report(instance.id));
    deps.store.onTablesChanged((revision) => {
      this.#desired = Math.max(this.#desired, revision);
      this.#changed();
    });
    // The table depends on where instances are, their health and which hosts are live; a live host's new
    // status report (its in-flight counts, its revision) changes none of that, and republishing on it would
    // loop: every publish writes this host's status, which every host (this one too) hears again.
    deps.view.onChange((changes) => {
      for (const c of changes) if (c.kind === 'status' && c.liveness && c.node !== deps.node && !deps.view.isLive(c.node)) this.#hostLeft(c.node);
      if (changes.some((c) => c.kind === 'instance' || (c.kind === 'status' && c.liveness))) this.#tableChanged();
    });
    deps.view.onMetrics((node, metrics) => {
      // A re-list replays the newest report of each host: count each report once.
      const seen = this.#seen.get(node);
      if (seen !== undefined && seen.startedAt === metrics.startedAt && seen.seq >= metrics.seq) return;
      this.#seen.set(node, { startedAt: metrics.startedAt, seq: metrics.seq });
      deps.metrics.merge(metrics.batch);
    });
  }

  /** Adopts what this host ran before, matches desired state, publishes the first table, then reports every second. */
  async start(): Promise<void> {
    this.#desired = Math.max(this.#desired, this.deps.store.tablesRevision);
    this.#adopt();
    this.#reconcile();
    await this.#publish();
    this.#timer = setInterval(() => this.#report(), REPORT_MS);
    this.#timer.unref();
  }

  /** A worker's report: its endpoints for drains, its observations for every host's metrics. */
  onObservations(message: ObservationsMessage): void {
    this.deps.fleet.onObservations(message);
    if (message.batch.releases.length > 0 || message.batch.instances.length > 0) this.#pending.push(message.batch);
    for (const e of message.ejections) {
      this.deps.store.addHostEvent({ service: e.service, instanceId: e.endpoint, type: 'instance.ejected', message: `${e.endpoint}: ejected for ${e.forMs} ms after consecutive failures (${this.deps.node}, proxy ${message.worker})` });
    }
  }

  /** The table this host's proxies route by. */
  get table(): TableSpec {
    return this.#table;
  }

  /** The revision this host's proxies route by. */
  get revision(): number {
    return this.#revision;
  }

  /**
   * Leaves the cluster: this host's reports go at once (every other host drops its instances from their
   * tables), then its instances stop once the others have had the time to route around them.
   */
  async leave(waitForOthers: () => Promise<void>): Promise<void> {
    this.#leaving = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.deps.lease.revoke();
    await waitForOthers();
    await this.supervisor.stopAll((service) => this.deps.config().services[service]);
    await this.health.close();
  }

  #changed(): void {
    this.#reconcile();
    this.#tableChanged();
  }

  /** Instances an earlier switchyard of this host ran and reported: kept by PID while they live. */
  #adopt(): void {
    const { store, view, node, config } = this.deps;
    const mine = store.instances({ states: ['starting', 'ready', 'draining'] }).filter((r) => r.node === node);
    const byEnv = findInstanceProcesses(new Set(mine.map((r) => r.id)));
    for (const row of mine) {
      const observed = view.observed(node, row.id);
      const release = store.release(row.releaseId);
      const service = config().services[row.service];
      const pid = observed?.pid ?? byEnv.get(row.id) ?? null;
      if (observed?.address == null || release === undefined || service === undefined) continue;
      const adoptedRow = { ...row, address: observed.address, pid, restarts: observed.restarts, state: observed.state === 'ready' ? ('ready' as const) : ('starting' as const) };
      this.#recorder.remember(adoptedRow);
      const instance = this.supervisor.adopt(adoptedRow, release, service, pid);
      if (instance !== null) this.#recorder.report(row.id);
      else this.#recorder.drop(row.id);
    }
  }

  /** Starts what desired state puts on this host and is not running; stops what it no longer wants here. */
  #reconcile(): void {
    if (this.#leaving) return;
    const { store, node, config } = this.deps;
    const wanted = new Set<string>();
    for (const row of store.instances({}).filter((r) => r.node === node)) {
      const live = this.supervisor.get(row.id);
      if (row.state === 'starting' || row.state === 'ready' || row.state === 'draining') {
        wanted.add(row.id);
        if (live !== undefined || this.#starting.has(row.id) || row.state === 'draining' || this.#recorder.has(row.id)) continue;
        const release = store.release(row.releaseId);
        const service = config().services[row.service];
        if (release === undefined || service === undefined) continue;
        this.#starting.add(row.id);
        void this.supervisor
          .start(row.service, service, release, undefined, { id: row.id, ordinal: row.ordinal })
          .catch((err: unknown) => this.deps.log.warn({ err, instance: row.id }, 'an instance did not start on this host'))
          .finally(() => this.#starting.delete(row.id));
      } else if (this.#recorder.has(row.id) && live === undefined && !this.#stopping.has(row.id)) {
        this.#recorder.drop(row.id); // a failed start the leader has seen
      }
    }
    for (const instance of this.supervisor.instances()) {
      if (wanted.has(instance.id) || this.#stopping.has(instance.id)) continue;
      const service = config().services[instance.service];
      if (service === undefined) continue;
      this.#stopping.add(instance.id);
      void this.supervisor
        .stop(instance, service)
        .catch((err: unknown) => this.deps.log.error({ err, instance: instance.id }, 'stopping an instance failed'))
        .finally(() => this.#stopping.delete(instance.id));
    }
  }

  #tableChanged(): void {
    if (this.#compiling) {
      this.#again = true;
      return;
    }
    void this.#publish();
  }

  /** Compiles and publishes this host's table; once every proxy here acknowledged it, says its revision. */
  async #publish(): Promise<void> {
    this.#compiling = true;
    try {
      do {
        this.#again = false;
        const revision = this.#desired;
        const spec = compileHostTable(this.deps.config(), this.deps.store, this.deps.view, this.deps.node, this.deps.config().cluster?.preferLocal ?? false);
        await this.deps.fleet.publish(spec);
        this.#table = spec;
        this.#endLost(spec);
        this.#revision = Math.max(this.#revision, revision);
        this.#drainLeaving();
        this.#writeStatus();
      } while (this.#again);
    } catch (err) {
      this.deps.log.error({ err }, 'building this host\'s table failed');
    } finally {
      this.#compiling = false;
    }
  }

  /** A host's lease ended: its instances leave this host's table; the next publish checks them (`#endLost`). */
  #hostLeft(node: string): void {
    const onHost = new Set(this.deps.store.instances({}).filter((row) => row.node === node).map((row) => row.id));
    // Their addresses left the view with the host's keys; the table in force still has them.
    for (const service of this.#table.services) {
      for (const endpoint of service.releases.flatMap((r) => r.endpoints)) {
        if (onHost.has(endpoint.id)) this.#lost.set(endpoint.id, { service: service.name, address: endpoint.address });
      }
    }
    this.deps.log.warn({ host: node }, "a host left the cluster (its lease ended): its instances leave this host's table");
  }

  /**
   * Once every proxy here routes by a table without the lost instances (so a retry never goes back to
   * them), tells the proxies about each one that does not answer its health check from here either: they
   * end its idempotent requests in flight and retry them elsewhere (see Proxy.lose). A lease also lapses
   * when etcd is in trouble while the host serves on: then the check passes and nothing is ended. One
   * that is in the table again (its host came back) is left alone.
   */
  #endLost(spec: TableSpec): void {
    if (this.#lost.size === 0) return;
    const routed = new Set(spec.services.flatMap((s) => s.releases.flatMap((r) => r.endpoints.map((e) => e.id))));
    for (const [id, { service, address }] of this.#lost) {
      const config = this.deps.config().services[service];
      if (routed.has(id) || config === undefined) continue;
      void probe(address, healthPolicy(config)).then((result) => {
        if (result.ok) return;
        this.deps.log.warn({ instance: id, address, check: result.detail }, 'an instance whose host left does not answer: its idempotent requests in flight are retried elsewhere');
        this.deps.fleet.lost([id]);
      });
    }
    this.#lost.clear();
  }

  /**
   * Drains, on this host's proxies, every instance desired state says is draining: the leader took it out
   * of rotation before, so the table just acknowledged no longer routes to it. The status says when each
   * drain ended, and the leader stops the instance only once every live host has said so (invariant 2).
   */
  #drainLeaving(): void {
    const { store, fleet, config } = this.deps;
    const draining = store.instances({ states: ['draining'] });
    const ids = new Set(draining.map((r) => r.id));
    for (const id of this.#drains.keys()) if (!ids.has(id)) this.#drains.delete(id);
    for (const row of draining) {
      if (this.#drains.has(row.id)) continue;
      this.#drains.set(row.id, null);
      const timeoutMs = config().services[row.service]?.drain.timeout ?? 0;
      void fleet.drain(row.id, timeoutMs).then((report) => {
        if (!this.#drains.has(row.id)) return;
        this.#drains.set(row.id, report);
        this.#writeStatus();
      });
    }
  }

  #report(): void {
    if (this.#pending.length > 0) {
      const batch: ObservationBatch = { releases: this.#pending.flatMap((b) => b.releases), instances: this.#pending.flatMap((b) => b.instances) };
      this.#pending = [];
      this.deps.lease.set(hostKey.metrics(this.deps.node), JSON.stringify({ startedAt: this.#startedAt, seq: ++this.#seq, batch }));
    }
    this.#writeStatus();
  }

  #writeStatus(): void {
    if (this.#leaving) return;
    const { fleet, node, adminUrl } = this.deps;
    const endpoints: HostStatus['endpoints'] = [];
    for (const instance of this.deps.store.instances({ states: ['ready', 'draining'] })) {
      const report = fleet.endpoint(instance.id);
      if (report.inFlight > 0 || report.ejected) endpoints.push([instance.id, report.inFlight, report.ejected ? Date.now() + 1000 : 0]);
    }
    const drained: NonNullable<HostStatus['drained']> = [];
    for (const [id, report] of this.#drains) if (report !== null) drained.push([id, report.finished, report.cut]);
    const status: HostStatus = { node, adminUrl, revision: this.#revision, endpoints, drained, startedAt: this.#startedAt };
    this.deps.lease.set(hostKey.status(node), JSON.stringify(status));
  }
}

// The leader's view of every host's instances, shaped as the deployments expect a supervisor (and a
// health checker) to be. Starting an instance writes it, with the host chosen to spread the service, into
// desired state; that host's agent starts it and reports; it is ready once reported healthy. Stopping
// takes it out of rotation, drains it on every host's proxies, then asks its host to stop it.
import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/index.js';
import type { ProbeResult } from '../health/active-checker.js';
import type { DrainReport } from '../proxy/drain.js';
import { Instance } from '../runtime/instance.js';
import { InstanceStartError, type InstanceId, type StopReport } from '../runtime/supervisor.js';
import type { InstanceRow, ReleaseRow } from '../store/index.js';
import type { EtcdStore } from '../store/etcd/etcd-store.js';
import type { ClusterView, ViewChange } from './cluster-view.js';

export interface ClusterSupervisorDeps {
  store: EtcdStore;
  view: ClusterView;
  /** Waits until no host's proxies have anything in flight on the instance (it left every table first). */
  drain: (instanceId: string, timeoutMs: number) => Promise<DrainReport>;
  log: Logger;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** How long past its stop timeout a host may take to report an instance stopped. */
const STOP_REPORT_GRACE_MS = 5000;

export class ClusterSupervisor {
  readonly #live = new Map<string, Instance>();
  readonly #nodes = new Map<string, string>();
  readonly #restarts = new Map<string, number>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #gone = new Map<string, () => void>();
  readonly #crashListeners: ((instance: Instance, output: string[]) => void)[] = [];
  readonly #healthListeners: ((instance: Instance, healthy: boolean, result: ProbeResult) => void)[] = [];
  readonly #healthy = new Map<string, boolean>();
  readonly #nextOrdinal = new Map<string, number>();
  #closed = false;
  /** An instance whose host left is gone for good: deployments start a replacement on a host that is up. */
  readonly replacesLost = true;

  constructor(private readonly deps: ClusterSupervisorDeps) {
    deps.view.onChange((changes) => this.#observe(changes));
  }

  // HealthView

  onChange(listener: (instance: Instance, healthy: boolean, result: ProbeResult) => void): void {
    this.#healthListeners.push(listener);
  }

  isHealthy(instance: Instance): boolean {
    const node = this.#nodes.get(instance.id) ?? null;
    return this.deps.view.isLive(node) && this.deps.view.observed(node, instance.id)?.healthy === true;
  }

  healthySince(instance: Instance): number {
    return this.deps.view.observed(this.#nodes.get(instance.id) ?? null, instance.id)?.healthySince ?? 0;
  }

  updatePolicy(): void {
    // Each host checks its own instances with the config it has.
  }

  // InstanceRuntime

  instances(filter: { service?: string; releaseId?: number } = {}): Instance[] {
    return [...this.#live.values()].filter((i) => (filter.service === undefined || i.service === filter.service) && (filter.releaseId === undefined || i.release.id === filter.releaseId));
  }

  get(id: string): Instance | undefined {
    return this.#live.get(id);
  }

  onCrash(listener: (instance: Instance, output: string[]) => void): () => void {
    this.#crashListeners.push(listener);
    return () => {
      const i = this.#crashListeners.indexOf(listener);
      if (i >= 0) this.#crashListeners.splice(i, 1);
    };
  }

  reserve(service: string, release: ReleaseRow, count: number): InstanceId[] {
    const ids: InstanceId[] = [];
    const key = `${service}\0${release.version}`;
    let ordinal = Math.max(this.deps.store.nextInstanceOrdinal(release.id), this.#nextOrdinal.get(key) ?? 1);
    const idOf = (n: number) => `${service}-${release.version}-${n}`;
    while (ids.length < count) {
      if (!this.#live.has(idOf(ordinal)) && this.deps.store.instance(idOf(ordinal)) === undefined) ids.push({ id: idOf(ordinal), ordinal });
      ordinal++;
    }
    this.#nextOrdinal.set(key, ordinal);
    return ids;
  }

  async start(service: string, config: ServiceConfig, release: ReleaseRow, signal?: AbortSignal, reserved?: InstanceId): Promise<Instance> {
    const { store } = this.deps;
    const { id, ordinal } = reserved ?? this.reserve(service, release, 1)[0]!;
    const node = this.#place(service, release.id);
    if (node === null) throw new InstanceStartError(`${id}: no host of the cluster is up to run it`);
    store.createInstance({ id, service, releaseId: release.id, ordinal, address: null, pid: null, state: 'starting', node });
    store.addEvent({ service, instanceId: id, type: 'instance.starting', message: `${id}: starting ${release.version} on ${node}`, data: { release: release.number, node } });
    const instance = new Instance(id, service, release, ordinal, '', store);
    this.#live.set(id, instance);
    this.#nodes.set(id, node);
    await store.flush();
    return this.#untilReady(instance, config, signal);
  }

  whenReady(instance: Instance, config: ServiceConfig, signal?: AbortSignal): Promise<Instance> {
    if (instance.state === 'ready') return Promise.resolve(instance);
    return this.#untilReady(instance, config, signal);
  }

  async stop(instance: Instance, config: ServiceConfig): Promise<StopReport> {
    const { store } = this.deps;
    instance.stopping = true;
    this.#waiters.get(instance.id)?.reject(new InstanceStartError(`${instance.id}: stopped before it became healthy`));
    instance.transition('draining', 'out of rotation; draining in-flight requests on every host');
    await store.flush();
    const drained = await this.deps.drain(instance.id, config.drain.timeout);
    const gone = this.#whenGone(instance, config.stop.timeout + STOP_REPORT_GRACE_MS);
    instance.transition('stopped', `drained ${drained.finished}, cut ${drained.cut}; its host stops it`, { ...drained });
    await store.flush();
    const outcome = await gone;
    this.#forget(instance);
    return { ...drained, outcome };
  }

  /** Takes over an instance an earlier leader started, if its host still reports it. */
  adopt(row: InstanceRow, release: ReleaseRow): Instance | null {
    const { view, store } = this.deps;
    const observed = view.observed(row.node, row.id);
    if (!view.isLive(row.node) || observed === undefined || observed.address === null || observed.state === 'failed') return null;
    const instance = new Instance(row.id, row.service, release, row.ordinal, observed.address, store);
    instance.restoreState(row.state === 'draining' ? 'ready' : row.state);
    instance.restarts = observed.restarts;
    this.#live.set(row.id, instance);
    this.#nodes.set(row.id, row.node!);
    this.#restarts.set(row.id, observed.restarts);
    this.#healthy.set(row.id, observed.healthy);
    return instance;
  }

  /** A leader leaving stops nothing: the instances belong to the cluster, and the next leader adopts them. */
  stopAll(): Promise<void> {
    return Promise.resolve();
  }

  /** This leader stood down: every wait ends, nothing more is written. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.values()) waiter.reject(new InstanceStartError('this controller is no longer the leader'));
    this.#waiters.clear();
  }

  /**
   * Spread: the live host running the fewest of this release's instances, then of the service's, then
   * of all (so a new release spreads over every host even when the old one sits on a few).
   */
  #place(service: string, releaseId: number): string | null {
    const hosts = this.deps.view.liveHosts();
    if (hosts.length === 0) return null;
    const count = (node: string, keep: (i: Instance) => boolean) => [...this.#live.values()].filter((i) => this.#nodes.get(i.id) === node && keep(i)).length;
    const load = hosts.map((node) => ({
      node,
      release: count(node, (i) => i.service === service && i.release.id === releaseId),
      service: count(node, (i) => i.service === service),
      all: count(node, () => true),
    }));
    return load.sort((a, b) => a.release - b.release || a.service - b.service || a.all - b.all || a.node.localeCompare(b.node))[0]!.node;
  }

  #untilReady(instance: Instance, config: ServiceConfig, signal?: AbortSignal): Promise<Instance> {
    const ready = new Promise<void>((resolve, reject) => this.#waiters.set(instance.id, { resolve, reject }));
    const timer = setTimeout(
      () => this.#waiters.get(instance.id)?.reject(new InstanceStartError(`${instance.id}: not healthy within ${config.health.startTimeout} ms on ${this.#nodes.get(instance.id) ?? '?'}`)),
      config.health.startTimeout,
    );
    const onAbort = () => this.#waiters.get(instance.id)?.reject(new InstanceStartError(`${instance.id}: cancelled`));
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#check(instance.id);
    return ready
      .then(async () => {
        instance.transition('ready', `healthy on ${this.#nodes.get(instance.id) ?? '?'}`);
        await this.deps.store.flush();
        return instance;
      })
      .catch(async (err: unknown) => {
        if (!this.#closed && instance.isLive) {
          instance.stopping = true;
          instance.transition('failed', err instanceof Error ? err.message : String(err));
          this.#forget(instance);
          await this.deps.store.flush().catch(() => {});
        }
        throw err instanceof InstanceStartError ? err : new InstanceStartError(String(err));
      })
      .finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(instance.id);
      });
  }

  #whenGone(instance: Instance, timeoutMs: number): Promise<StopReport['outcome']> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#gone.delete(instance.id);
        resolve('already-gone');
      }, timeoutMs);
      this.#gone.set(instance.id, () => {
        clearTimeout(timer);
        this.#gone.delete(instance.id);
        resolve('exited');
      });
    });
  }

  #observe(changes: ViewChange[]): void {
    for (const change of changes) {
      if (change.kind === 'instance') this.#check(change.id);
      else if (change.kind === 'status') {
        for (const [id, node] of this.#nodes) if (node === change.node) this.#check(id);
        if (!this.deps.view.isLive(change.node)) this.#lose(change.node);
      }
    }
  }

  /**
   * A host left the cluster (its lease ended): its instances are in no table any more and are written
   * off; should the host come back, its agent stops them, as desired state says.
   */
  #lose(node: string): void {
    if (this.#closed) return;
    for (const [id, on] of [...this.#nodes]) {
      const instance = this.#live.get(id);
      if (on !== node || instance === undefined || instance.stopping) continue;
      instance.stopping = true;
      instance.transition('failed', `its host ${node} left the cluster`);
      this.#noteHealth(instance, false, `host ${node} is gone`);
      this.#forget(instance);
    }
  }

  /**
   * An instance still starting on a host that left goes to another live host, under the same id (so a
   * deployment's records of it stay true); its wait for health goes on, within the same start timeout.
   * Should the old host come back, its agent stops its copy: desired state names the new host.
   */
  #move(instance: Instance, from: string | null): boolean {
    if (this.#closed || instance.state !== 'starting') return false;
    this.#nodes.delete(instance.id);
    const to = this.#place(instance.service, instance.release.id);
    if (to === null || to === from) {
      if (from !== null) this.#nodes.set(instance.id, from);
      return false;
    }
    this.#nodes.set(instance.id, to);
    this.deps.store.updateInstance(instance.id, { node: to, address: null, pid: null });
    this.deps.store.addEvent({ service: instance.service, instanceId: instance.id, type: 'instance.starting', message: `${instance.id}: its host ${from ?? '?'} left the cluster while it started; starting it on ${to}`, data: { node: to } });
    return true;
  }

  /** Follows one instance's report: its address, readiness, crashes, health, and its end. */
  #check(id: string): void {
    const instance = this.#live.get(id);
    const node = this.#nodes.get(id) ?? null;
    const { view } = this.deps;
    const observed = view.observed(node, id);
    const live = view.isLive(node);
    if (instance === undefined) return;
    if ((observed === undefined || observed.state === 'stopped') && instance.stopping) this.#gone.get(id)?.();
    if (!live && !instance.stopping && this.#waiters.has(id)) {
      // Still starting: the host's loss is not the release's fault; start it on another host instead.
      if (this.#move(instance, node)) return;
      this.#waiters.get(id)?.reject(new InstanceStartError(`${id}: its host ${node ?? '?'} left the cluster`));
    }
    if (observed === undefined) return this.#noteHealth(instance, false, `not reported by ${node ?? '?'}`);
    if (observed.address !== null && observed.address !== instance.address) instance.address = observed.address;
    const restarts = this.#restarts.get(id) ?? 0;
    if (observed.restarts > restarts) {
      this.#restarts.set(id, observed.restarts);
      instance.restarts = observed.restarts;
      for (const listener of this.#crashListeners) listener(instance, []);
    }
    if (observed.state === 'failed') this.#waiters.get(id)?.reject(new InstanceStartError(`${id}: its host ${node ?? '?'} could not start it`));
    else if (observed.healthy && observed.state === 'ready' && live) this.#waiters.get(id)?.resolve();
    this.#noteHealth(instance, live && observed.healthy, live ? (observed.healthy ? 'healthy' : 'failing its checks') : `host ${node ?? '?'} is gone`);
  }

  #noteHealth(instance: Instance, healthy: boolean, detail: string): void {
    if (this.#healthy.get(instance.id) === healthy) return;
    this.#healthy.set(instance.id, healthy);
    for (const listener of this.#healthListeners) listener(instance, healthy, { ok: healthy, detail });
  }

  #forget(instance: Instance): void {
    this.#live.delete(instance.id);
    this.#nodes.delete(instance.id);
    this.#restarts.delete(instance.id);
    this.#healthy.delete(instance.id);
  }
}

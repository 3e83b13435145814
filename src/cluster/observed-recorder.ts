// What a host's supervisor records, turned into the host's reports: each instance's row becomes
// `hosts/<node>/instances/<id>` under the host's lease (the leader owns the desired rows). Transition
// events are the leader's to write; the rest (crashes, failing checks) go out as host events.
import type { HealthChecker } from '../health/active-checker.js';
import type { Instance } from '../runtime/instance.js';
import type { SupervisorStore } from '../runtime/supervisor.js';
import type { InstancePatch, InstanceRow, NewEvent, NewInstance } from '../store/index.js';
import type { EtcdStore } from '../store/etcd/etcd-store.js';
import { hostKey, type ObservedInstance } from './cluster-view.js';
import type { HostLease } from './host-lease.js';

const LEADER_WRITES = /^instance\.(starting|ready|draining|stopped|failed|adopted)$/;

export class ObservedRecorder implements SupervisorStore {
  readonly #rows = new Map<string, InstanceRow>();

  constructor(
    private readonly node: string,
    private readonly store: EtcdStore,
    private readonly lease: HostLease,
    private readonly health: HealthChecker<Instance>,
    private readonly live: (id: string) => Instance | undefined,
  ) {}

  createInstance(row: NewInstance): InstanceRow {
    const now = new Date().toISOString();
    const created: InstanceRow = { ...row, node: this.node, restarts: 0, createdAt: now, updatedAt: now };
    this.#rows.set(row.id, created);
    this.report(row.id);
    return created;
  }

  updateInstance(id: string, patch: InstancePatch): InstanceRow {
    const row = this.#rows.get(id) ?? this.store.instance(id);
    if (row === undefined) throw new Error(`no instance ${id} on ${this.node}`);
    const updated: InstanceRow = { ...row, ...patch, updatedAt: new Date().toISOString() };
    this.#rows.set(id, updated);
    this.report(id);
    return updated;
  }

  /** Takes an instance an earlier agent of this host reported (adopted after a restart). */
  remember(row: InstanceRow): void {
    this.#rows.set(row.id, row);
  }

  instance(id: string): InstanceRow | undefined {
    return this.#rows.get(id) ?? this.store.instance(id);
  }

  nextInstanceOrdinal(releaseId: number): number {
    return this.store.nextInstanceOrdinal(releaseId);
  }

  addEvent(event: NewEvent): void {
    if (LEADER_WRITES.test(event.type)) return;
    this.store.addHostEvent(event);
  }

  /** Writes (or, once stopped, deletes) the instance's report as this host sees it now. */
  report(id: string): void {
    const row = this.#rows.get(id);
    if (row === undefined) return;
    if (row.state === 'stopped') {
      this.#rows.delete(id);
      this.lease.set(hostKey.instance(this.node, id), null);
      return;
    }
    const instance = this.live(id);
    const observed: ObservedInstance = {
      id,
      service: row.service,
      releaseId: row.releaseId,
      address: instance?.address ?? row.address,
      pid: instance?.pid ?? row.pid,
      state: row.state,
      healthy: instance !== undefined && this.health.isHealthy(instance),
      healthySince: instance === undefined ? 0 : this.health.healthySince(instance),
      restarts: row.restarts,
    };
    this.lease.set(hostKey.instance(this.node, id), JSON.stringify(observed));
  }

  /** Forgets an instance no one wants any more (its failed report goes too). */
  drop(id: string): void {
    this.#rows.delete(id);
    this.lease.set(hostKey.instance(this.node, id), null);
  }

  has(id: string): boolean {
    return this.#rows.has(id);
  }
}

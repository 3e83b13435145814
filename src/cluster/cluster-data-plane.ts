// The data plane as the leader sees it: every host's proxies. Hosts build their tables themselves from
// desired state in etcd; a split is in force once every live host reports a table built from a revision
// at least that of the write (invariant 10 across hosts), and an endpoint is drained once every host's
// proxies drained it. A host that stops answering leaves the count when its lease ends.
import type { DataPlane, EndpointReport } from '../proxy/data-plane.js';
import type { DrainReport } from '../proxy/drain.js';
import type { EtcdStore } from '../store/etcd/etcd-store.js';
import type { ClusterView } from './cluster-view.js';

/** How long past a drain's deadline a host may take to report it. */
const REPORT_GRACE_MS = 3000;

export class ClusterDataPlane implements DataPlane {
  readonly #waiters = new Set<() => void>();

  constructor(
    private readonly store: EtcdStore,
    private readonly view: ClusterView,
  ) {
    view.onChange(() => {
      for (const wake of [...this.#waiters]) wake();
    });
  }

  /** The spec is only what this leader would build: each host compiles its own from the same state. */
  async publish(): Promise<number> {
    const revision = this.store.committedRevision;
    await this.#until(() => this.#allAt(revision));
    return revision;
  }

  /**
   * Resolves once every live host's proxies drained the instance: each drains it as soon as its table no
   * longer routes to it and says so in its status. A host that has not said so by the deadline (plus a
   * grace for its report) counts what it still had in flight as cut.
   */
  async drain(endpointId: string, timeoutMs: number): Promise<DrainReport> {
    const revision = this.store.committedRevision;
    const started = Date.now();
    const drainedOn = (node: string) => this.view.hosts.get(node)?.status?.drained?.find(([id]) => id === endpointId);
    await this.#until(() => this.#allAt(revision) && this.view.liveHosts().every((node) => drainedOn(node) !== undefined), timeoutMs + REPORT_GRACE_MS);
    let finished = 0;
    let cut = 0;
    for (const node of this.view.liveHosts()) {
      const report = drainedOn(node);
      if (report !== undefined) {
        finished += report[1];
        cut += report[2];
      } else {
        cut += this.view.hosts.get(node)?.status?.endpoints.find(([id]) => id === endpointId)?.[1] ?? 0;
      }
    }
    return { finished, cut, durationMs: Date.now() - started };
  }

  endpoint(endpointId: string): EndpointReport {
    let inFlight = 0;
    let ejected = false;
    const now = Date.now();
    for (const node of this.view.liveHosts()) {
      for (const [id, count, ejectedUntil] of this.view.hosts.get(node)?.status?.endpoints ?? []) {
        if (id !== endpointId) continue;
        inFlight += count;
        ejected ||= ejectedUntil > now;
      }
    }
    return { inFlight, ejected };
  }

  /** Every live host's proxies route by desired state as of `revision` or later. */
  #allAt(revision: number): boolean {
    return this.view.liveHosts().every((node) => (this.view.hosts.get(node)?.status?.revision ?? 0) >= revision);
  }

  /** Resolves true once `done()` holds (checked on every report), or false at the deadline. */
  #until(done: () => boolean, timeoutMs?: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ok: boolean) => {
        this.#waiters.delete(check);
        if (timer) clearTimeout(timer);
        resolve(ok);
      };
      const check = () => {
        if (done()) finish(true);
      };
      const timer = timeoutMs === undefined ? null : setTimeout(() => finish(false), timeoutMs);
      this.#waiters.add(check);
    });
  }
}

// The data plane as the controller process sees it: the proxy workers behind the keeper. A table is in
// force once every worker acknowledged it (or a newer one); a drain ends once every worker reported its
// share; a worker that does not answer in time is replaced (invariant 10).
import type { DaemonView } from '../../api/daemon-view.js';
import type { RoutingView, WorkerRoutingView } from '../../api/wire.js';
import type { DataPlane, EndpointReport } from '../../proxy/data-plane.js';
import type { DrainReport } from '../../proxy/drain.js';
import type { TableSpec } from '../../proxy/routing-table.js';
import type { EndpointState, FromController, ObservationsMessage, ToController, WorkerInfo, WorkerSettings } from '../ipc/messages.js';

/** How long a worker may take to acknowledge a table before it is replaced. */
export const ACK_TIMEOUT_MS = 5000;
/** How long past its deadline a drain may take before the workers still draining are replaced. */
const DRAIN_GRACE_MS = 5000;

interface WorkerView {
  info: WorkerInfo;
  acked: number;
  endpoints: Map<string, EndpointState>;
}

interface PendingPublish {
  version: number;
  resolve: (version: number) => void;
  timer: NodeJS.Timeout;
}

interface PendingDrain {
  waiting: Set<number>;
  report: DrainReport;
  resolve: (report: DrainReport) => void;
  timer: NodeJS.Timeout;
}

export class WorkerFleet implements DataPlane {
  private version: number;
  private readonly workers = new Map<number, WorkerView>();
  private publishes: PendingPublish[] = [];
  private readonly drains = new Map<number, PendingDrain>();
  /**
   * Request ids start at this controller's start time (in ms, times 1000): workers may still answer a
   * controller that died, and such an answer must never settle a request of this one.
   */
  private nextDrain = Date.now() * 1000;
  private nextDescribe = Date.now() * 1000;
  private readonly describing = new Map<number, (worker: number, table: WorkerRoutingView) => void>();

  constructor(
    private readonly send: (message: FromController) => void,
    private settings: WorkerSettings,
    tableVersion: number,
    workers: readonly WorkerInfo[],
  ) {
    this.version = tableVersion;
    this.setWorkers(workers);
  }

  /** The version of the newest table published (in force or not yet). */
  get tableVersion(): number {
    return this.version;
  }

  /** Settings for workers started from now on (a reload). */
  updateSettings(settings: WorkerSettings): void {
    this.settings = settings;
  }

  publish(spec: TableSpec): Promise<number> {
    const version = ++this.version;
    this.send({ t: 'table', version, spec, settings: this.settings });
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.replaceLaggards(version), ACK_TIMEOUT_MS);
      timer.unref();
      this.publishes.push({ version, resolve, timer });
      this.settle();
    });
  }

  drain(endpointId: string, timeoutMs: number): Promise<DrainReport> {
    const id = this.nextDrain++;
    const waiting = new Set(this.workers.keys());
    if (waiting.size === 0) return Promise.resolve({ finished: 0, cut: 0, durationMs: 0 });
    this.send({ t: 'drain', id, endpoint: endpointId, timeoutMs });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const index of this.drains.get(id)?.waiting ?? []) {
          this.send({ t: 'replace', worker: index, reason: `still draining ${endpointId} ${DRAIN_GRACE_MS} ms after the drain deadline` });
        }
      }, timeoutMs + DRAIN_GRACE_MS);
      timer.unref();
      this.drains.set(id, { waiting, report: { finished: 0, cut: 0, durationMs: 0 }, resolve, timer });
    });
  }

  /** Tells every worker these endpoints' host left the cluster: what is in flight to them ends now. */
  lost(endpointIds: string[]): void {
    if (endpointIds.length > 0) this.send({ t: 'lost', endpoints: endpointIds });
  }

  endpoint(endpointId: string): EndpointReport {
    let inFlight = 0;
    let ejected = false;
    const now = Date.now();
    for (const worker of this.workers.values()) {
      const state = worker.endpoints.get(endpointId);
      if (state === undefined) continue;
      inFlight += state.inFlight;
      ejected ||= state.ejectedUntil > now;
    }
    return { inFlight, ejected };
  }

  /** The workers as they are now, each with the newest table it acknowledged. */
  list(): WorkerInfo[] {
    return [...this.workers.values()].map((w) => ({ ...w.info, tableVersion: w.acked }));
  }

  /** The proxies' own tables: the one in force (the oldest any proxy has) and each worker's. */
  async routing(): Promise<RoutingView> {
    const workers = await this.describe();
    const oldest = workers.reduce<WorkerRoutingView | null>((min, w) => (min === null || w.version < min.version ? w : min), null);
    return { version: oldest?.version ?? 0, services: oldest?.services ?? {}, workers };
  }

  /** The daemon's processes (the keeper, this controller, the proxies) and the table in force everywhere. */
  processes(keeper: { pid: number; startedAt: number }): Pick<DaemonView, 'tableVersion' | 'processes'> {
    const now = Date.now();
    const uptime = (since: number) => Math.max(0, Math.round((now - since) / 1000));
    const workers = this.list();
    return {
      tableVersion: workers.length === 0 ? 0 : Math.min(...workers.map((w) => w.tableVersion)),
      processes: [
        { role: 'keeper', pid: keeper.pid, uptimeSeconds: uptime(keeper.startedAt) },
        { role: 'controller', pid: process.pid, uptimeSeconds: Math.round(process.uptime()), tableVersion: this.tableVersion },
        ...workers.map((w) => ({ role: 'proxy' as const, index: w.index, pid: w.pid, uptimeSeconds: uptime(w.startedAt), tableVersion: w.tableVersion })),
      ],
    };
  }

  /** Takes the keeper's messages about the workers (who runs, acknowledgements, drains, tables); false for any other. */
  onKeeperMessage(message: ToController): boolean {
    switch (message.t) {
      case 'fleet':
        this.setWorkers(message.workers);
        return true;
      case 'ack':
        this.onAck(message.worker, message.version);
        return true;
      case 'drained':
        this.onDrained(message.worker, message.id, message.report);
        return true;
      case 'described':
        this.onDescribed(message.worker, message.id, message.table);
        return true;
      default:
        return false;
    }
  }

  /** The keeper says which workers run now. */
  setWorkers(workers: readonly WorkerInfo[]): void {
    const known = new Map(this.workers);
    this.workers.clear();
    for (const info of workers) {
      const previous = known.get(info.index);
      const same = previous !== undefined && previous.info.pid === info.pid;
      this.workers.set(info.index, {
        info,
        acked: Math.max(info.tableVersion, same ? previous.acked : 0),
        endpoints: same ? previous.endpoints : new Map<string, EndpointState>(),
      });
    }
    // A worker that left has nothing in flight any more and needs to acknowledge nothing.
    for (const [id, drain] of this.drains) {
      for (const index of drain.waiting) if (!this.isCurrent(index, known.get(index)?.info.pid)) drain.waiting.delete(index);
      this.settleDrain(id);
    }
    this.settle();
  }

  onAck(worker: number, version: number): void {
    const view = this.workers.get(worker);
    if (view === undefined) return;
    view.acked = Math.max(view.acked, version);
    this.settle();
  }

  onDrained(worker: number, id: number, report: DrainReport): void {
    const drain = this.drains.get(id);
    if (drain === undefined || !drain.waiting.delete(worker)) return;
    drain.report.finished += report.finished;
    drain.report.cut += report.cut;
    drain.report.durationMs = Math.max(drain.report.durationMs, report.durationMs);
    this.settleDrain(id);
  }

  /** Every worker's own table, described; a worker that does not answer in `timeoutMs` is left out. */
  describe(timeoutMs = 2000): Promise<(WorkerRoutingView & { index: number })[]> {
    const id = this.nextDescribe++;
    const waiting = new Set(this.workers.keys());
    if (waiting.size === 0) return Promise.resolve([]);
    this.send({ t: 'describe', id });
    return new Promise((resolve) => {
      const answers: (WorkerRoutingView & { index: number })[] = [];
      const finish = () => {
        clearTimeout(timer);
        this.describing.delete(id);
        resolve(answers.sort((a, b) => a.index - b.index));
      };
      const timer = setTimeout(finish, timeoutMs);
      this.describing.set(id, (worker, table) => {
        if (!waiting.delete(worker)) return;
        answers.push({ index: worker, ...table });
        if (waiting.size === 0) finish();
      });
    });
  }

  onDescribed(worker: number, id: number, table: WorkerRoutingView): void {
    this.describing.get(id)?.(worker, table);
  }

  onObservations(message: ObservationsMessage): void {
    const view = this.workers.get(message.worker);
    if (view === undefined) return;
    view.endpoints = new Map(message.endpoints.map((e) => [e.id, e]));
  }

  private isCurrent(index: number, pid: number | undefined): boolean {
    return pid !== undefined && this.workers.get(index)?.info.pid === pid;
  }

  private settle(): void {
    const slowest = Math.min(...[...this.workers.values()].map((w) => w.acked));
    const done = this.publishes.filter((p) => p.version <= slowest);
    if (done.length === 0) return;
    this.publishes = this.publishes.filter((p) => p.version > slowest);
    for (const p of done) {
      clearTimeout(p.timer);
      p.resolve(p.version);
    }
  }

  private settleDrain(id: number): void {
    const drain = this.drains.get(id);
    if (drain === undefined || drain.waiting.size > 0) return;
    clearTimeout(drain.timer);
    this.drains.delete(id);
    drain.resolve(drain.report);
  }

  private replaceLaggards(version: number): void {
    const pending = this.publishes.find((p) => p.version === version);
    if (pending === undefined) return;
    for (const worker of this.workers.values()) {
      if (worker.acked < version) this.send({ t: 'replace', worker: worker.info.index, reason: `did not acknowledge table ${version} within ${ACK_TIMEOUT_MS} ms` });
    }
    // The replacements start with the newest table; should one hang too, it is replaced in turn.
    pending.timer = setTimeout(() => this.replaceLaggards(version), ACK_TIMEOUT_MS);
    pending.timer.unref();
  }
}

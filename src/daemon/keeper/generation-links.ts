// Two generations run side by side for a while after an upgrade: the old one's workers still finish
// what they hold (WebSockets, streams, each keep-alive connection's next request) for up to the drain
// timeout. Meanwhile the new controller publishes tables and drains endpoints, and invariant 2 must hold
// across both generations: the old workers route by the newest table, and an instance gets SIGTERM only
// once the old workers drained it too. These links carry that over the IPC channel between the keepers.
import type { ChildProcess } from 'node:child_process';
import type { DrainReport } from '../../proxy/drain.js';
import type { AckMessage, DrainedMessage, DrainMessage, LostMessage, TableMessage } from '../ipc/messages.js';
import type { FromPredecessor, FromSuccessor } from './generations.js';

/** Beyond the drain's own deadline, how long a drain waits for the previous generation's answer. */
const PREDECESSOR_GRACE_MS = 2000;
/**
 * How long a table's acknowledgements wait for the previous generation's: below the controller's
 * ACK_TIMEOUT_MS, so a stuck old generation (it only drains, and exits soon) never gets this generation's
 * own workers replaced. Drains stay held until it drained, so invariant 2 holds even then.
 */
const PREDECESSOR_ACK_WAIT_MS = 3000;

/** The IPC channel to the previous generation's keeper: `process` in the new keeper. */
export interface PredecessorChannel {
  readonly connected: boolean;
  send?(message: FromSuccessor, callback: (err: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

interface Held {
  messages: DrainedMessage[];
  timer: NodeJS.Timeout;
}

/**
 * The new generation's side. Every table and drain of its controller goes to the previous generation
 * as well, while that one runs; the workers' `drained` answers for a drain are held back until the
 * previous generation has drained the endpoint too (or has exited, or the deadline and a grace passed).
 */
export class PredecessorLink {
  private readonly held = new Map<number, Held>();
  /** The previous generation's report for a drain none of this generation's workers had answered yet. */
  private readonly early = new Map<number, DrainReport>();
  /** The newest table sent to the previous generation, and the newest all its workers acknowledged. */
  private sentTable = 0;
  private predecessorAcked = 0;
  /** This generation's workers' acknowledgements, each held until the previous generation's (or a deadline). */
  private readonly heldAcks: { message: AckMessage; timer: NodeJS.Timeout }[] = [];

  constructor(
    private readonly channel: PredecessorChannel,
    private readonly release: (message: DrainedMessage) => void,
    private readonly releaseAck: (message: AckMessage) => void,
  ) {
    channel.on('message', (raw) => {
      const message = raw as FromPredecessor;
      if (message.t === 'drained') this.answered(message.id, message.report);
      else if (message.t === 'acked') this.acked(message.version);
    });
    channel.once('disconnect', () => {
      for (const id of [...this.held.keys()]) this.answered(id, null);
      this.early.clear();
      this.acked(Number.MAX_SAFE_INTEGER);
    });
  }

  table(message: TableMessage): void {
    if (this.send(message)) this.sentTable = Math.max(this.sentTable, message.version);
  }

  /** The previous generation's workers may hold requests to a lost host too. */
  lost(message: LostMessage): void {
    this.send(message);
  }

  /**
   * A worker of this generation acknowledged a table: true when the acknowledgement waits for the previous
   * generation's workers to route by it too (invariant 10 across generations).
   */
  holdAck(message: AckMessage): boolean {
    if (message.version <= this.predecessorAcked || message.version > this.sentTable) return false;
    const entry = { message, timer: setTimeout(() => this.releaseAcks((m) => m === message), PREDECESSOR_ACK_WAIT_MS) };
    entry.timer.unref();
    this.heldAcks.push(entry);
    return true;
  }

  private acked(version: number): void {
    this.predecessorAcked = Math.max(this.predecessorAcked, version);
    this.releaseAcks((m) => m.version <= this.predecessorAcked);
  }

  private releaseAcks(which: (message: AckMessage) => boolean): void {
    for (let i = 0; i < this.heldAcks.length; ) {
      const { message, timer } = this.heldAcks[i]!;
      if (!which(message)) {
        i++;
        continue;
      }
      clearTimeout(timer);
      this.heldAcks.splice(i, 1);
      this.releaseAck(message);
    }
  }

  drain(message: DrainMessage): void {
    if (!this.send(message)) return;
    const timer = setTimeout(() => this.answered(message.id, null), message.timeoutMs + PREDECESSOR_GRACE_MS);
    timer.unref();
    this.held.set(message.id, { messages: [], timer });
  }

  /** A worker of this generation drained: true when its answer waits for the previous generation's. */
  hold(message: DrainedMessage): boolean {
    const early = this.early.get(message.id);
    if (early !== undefined) {
      this.early.delete(message.id);
      addReport(message.report, early);
    }
    const held = this.held.get(message.id);
    if (held === undefined) return false;
    held.messages.push(message);
    return true;
  }

  private answered(id: number, report: DrainReport | null): void {
    const held = this.held.get(id);
    if (held === undefined) return;
    clearTimeout(held.timer);
    this.held.delete(id);
    const [first] = held.messages;
    if (report !== null && first !== undefined) addReport(first.report, report);
    else if (report !== null) this.early.set(id, report);
    for (const message of held.messages) this.release(message);
  }

  private send(message: FromSuccessor): boolean {
    if (!this.channel.connected || this.channel.send === undefined) return false;
    // A predecessor that exits meanwhile ends the wait through `disconnect`, never with an exception here.
    this.channel.send(message, () => {});
    return true;
  }
}

interface RelayedDrain {
  successorId: number;
  waiting: Set<number>;
  report: DrainReport;
}

/**
 * The old generation's side, from the hand-over on: the successor's tables and drains reach this
 * generation's workers (and, through `fanOut`, any generation older still); a drain is answered once
 * every worker here drained the endpoint or exited. Drains get ids of their own (negative), so an
 * answer to one the retired controller asked for is never taken for the successor's.
 */
export class SuccessorRelay {
  private nextId = -1;
  private readonly drains = new Map<number, RelayedDrain>();
  /** The newest successor table relayed, and the newest every worker here acknowledged (told to it). */
  private relayedTable = 0;
  private reportedAck = 0;

  constructor(
    private readonly successor: ChildProcess,
    private readonly workers: () => number[],
    private readonly fanOut: (message: TableMessage | DrainMessage | LostMessage) => void,
    /** The oldest table any live worker here has acknowledged. */
    private readonly oldestAcked: () => number,
  ) {}

  /** A worker acknowledged a table, or one exited: tells the successor once every worker here has its newest. */
  onAckChanged(): void {
    const acked = Math.min(this.oldestAcked(), this.relayedTable);
    if (acked <= this.reportedAck) return;
    this.reportedAck = acked;
    if (this.successor.connected) this.successor.send({ t: 'acked', version: acked } satisfies FromPredecessor, () => {});
  }

  /** A message from the successor: true when it was one of the relayed kinds. */
  handle(raw: unknown): boolean {
    const message = raw as FromSuccessor;
    if (message.t === 'table') {
      this.relayedTable = Math.max(this.relayedTable, message.version);
      this.fanOut(message);
      return true;
    }
    if (message.t === 'lost') {
      this.fanOut(message);
      return true;
    }
    if (message.t !== 'drain') return false;
    const id = this.nextId--;
    this.drains.set(id, { successorId: message.id, waiting: new Set(this.workers()), report: { finished: 0, cut: 0, durationMs: 0 } });
    this.fanOut({ ...message, id });
    this.settle(id);
    return true;
  }

  /** A worker's `drained`: true when it answered a relayed drain. */
  onWorkerDrained(message: DrainedMessage): boolean {
    const drain = this.drains.get(message.id);
    if (drain === undefined) return false;
    if (drain.waiting.delete(message.worker)) addReport(drain.report, message.report);
    this.settle(message.id);
    return true;
  }

  /** A worker that exited has nothing in flight any more. */
  onWorkerExited(index: number): void {
    for (const [id, drain] of this.drains) {
      drain.waiting.delete(index);
      this.settle(id);
    }
    this.onAckChanged();
  }

  private settle(id: number): void {
    const drain = this.drains.get(id);
    if (drain === undefined || drain.waiting.size > 0) return;
    this.drains.delete(id);
    if (this.successor.connected) this.successor.send({ t: 'drained', id: drain.successorId, report: drain.report } satisfies FromPredecessor, () => {});
  }
}

function addReport(to: DrainReport, from: DrainReport): void {
  to.finished += from.finished;
  to.cut += from.cut;
  to.durationMs = Math.max(to.durationMs, from.durationMs);
}

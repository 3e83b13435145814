// A cluster writer's changes on their way to etcd: batches in order, one transaction each (a Store
// transaction stays atomic), every one fenced by the leader key's create revision when a fence is set,
// so a deposed leader's write can never land (invariant 12). A batch that failed for want of an answer
// is sent again (its puts are whole values, so twice is the same as once); a failed compare ends writing.
import type { Etcd3 } from 'etcd3';
import { StoreError } from '../errors.js';

export interface WriteOp {
  /** Relative to the prefix. */
  key: string;
  /** The whole new value; null deletes the key. */
  value: string | null;
}

/** The leader key and its create revision when this writer was elected: its writes hold only while both match. */
export interface Fence {
  key: string;
  createRevision: number;
}

/**
 * Written in every fenced transaction: the fence it was sent under. Keys of no table are not mirrored,
 * so this costs one small put per transaction; an auditor watching the prefix can check that each
 * transaction's fence was the leader key's create revision when it landed (a deposed writer's never is).
 */
export const WRITER_KEY = 'writer';

/** etcd's default --max-txn-ops is 128; merging stops short of it (one op is the writer record). */
const MERGE_LIMIT = 100;
const MAX_RETRY_MS = 1000;

interface Batch {
  ops: WriteOp[];
  sequence: number;
}

export interface WriteQueueOptions {
  /** Where writes go, for error messages. */
  path: string;
  onFenced?: (why: string) => void;
  onRetry?: (err: unknown) => void;
}

export class WriteQueue {
  #fence: Fence | null = null;
  #fencedWhy: string | null = null;
  readonly #batches: Batch[] = [];
  #enqueued = 0;
  #committed = 0;
  #sending = false;
  #closed = false;
  readonly #waiters: { sequence: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  /** Keys with writes not yet committed: the watch's echo of an older value must not overwrite them. */
  readonly #pending = new Map<string, number>();
  /** Per key, the revision of our newest committed write: older watch events for it are stale. */
  readonly #written = new Map<string, number>();
  /** Transactions etcd refused because their fence no longer held. */
  refused = 0;
  /** The revision of the newest transaction etcd committed for this writer. */
  committedRevision = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly options: WriteQueueOptions,
  ) {}

  /** Writes from now on hold only while the leader key still has this create revision (null: unfenced). */
  setFence(fence: Fence | null): void {
    this.#fence = fence;
    this.#fencedWhy = null;
  }

  /** Why this writer may no longer write, or null while it may. */
  get fencedWhy(): string | null {
    return this.#fencedWhy;
  }

  /** Stops all writing: what is queued is dropped and every flush waiting rejects with SY_ERR_FENCED. */
  depose(why: string): void {
    if (this.#fencedWhy !== null) return;
    this.#fencedWhy = why;
    this.#batches.length = 0;
    this.#pending.clear();
    const error = this.#fencedError();
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    this.options.onFenced?.(why);
  }

  /** Queues one atomic batch; throws SY_ERR_FENCED once deposed. */
  enqueue(ops: WriteOp[]): void {
    if (this.#fencedWhy !== null) throw this.#fencedError();
    if (ops.length === 0) return;
    this.#batches.push({ ops, sequence: ++this.#enqueued });
    for (const op of ops) this.#pending.set(op.key, (this.#pending.get(op.key) ?? 0) + 1);
    void this.#send();
  }

  /** Resolves once everything queued so far is committed. */
  flush(): Promise<void> {
    if (this.#fencedWhy !== null) return Promise.reject(this.#fencedError());
    if (this.#committed >= this.#enqueued) return Promise.resolve();
    const sequence = this.#enqueued;
    return new Promise((resolve, reject) => this.#waiters.push({ sequence, resolve, reject }));
  }

  /** Whether a watch event for `key` at `modRevision` is older than what this writer has (or will have) there. */
  isStale(key: string, modRevision: number): boolean {
    if (this.#pending.has(key)) return true;
    const written = this.#written.get(key);
    if (written === undefined) return false;
    if (modRevision >= written) this.#written.delete(key);
    return modRevision < written;
  }

  close(): void {
    this.#closed = true;
    const error = new StoreError('SY_ERR_STATE_UNREACHABLE', this.options.path, 'the store was closed before this write reached etcd');
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  async #send(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    let delay = 50;
    try {
      while (this.#batches.length > 0 && !this.#closed && this.#fencedWhy === null) {
        const take = this.#takeMerged();
        const fence = this.#fence;
        try {
          // Unfenced (no leader: tests, a first write): a comparison that always holds (no key has version < 0).
          const txn = fence === null ? this.client.if(this.prefix, 'Version', '>', -1) : this.client.if(fence.key, 'Create', '==', fence.createRevision);
          const ops = take.ops.map((op) => (op.value === null ? this.client.delete().key(this.prefix + op.key) : this.client.put(this.prefix + op.key).value(op.value)));
          if (fence !== null) ops.push(this.client.put(this.prefix + WRITER_KEY).value(JSON.stringify({ fence: fence.createRevision })));
          const response = await txn.then(...ops).commit();
          if (!response.succeeded) {
            this.refused++;
            this.depose(`etcd refused a write: ${fence?.key ?? 'the fence'} no longer has create revision ${fence?.createRevision ?? '?'} (another controller leads)`);
            return;
          }
          this.#batches.splice(0, take.count);
          const revision = Number(response.header.revision);
          this.committedRevision = Math.max(this.committedRevision, revision);
          for (const op of take.ops) {
            this.#written.set(op.key, revision);
            const left = (this.#pending.get(op.key) ?? 1) - take.perKey.get(op.key)!;
            if (left <= 0) this.#pending.delete(op.key);
            else this.#pending.set(op.key, left);
          }
          this.#committed = take.sequence;
          for (let i = this.#waiters.length - 1; i >= 0; i--) {
            if (this.#waiters[i]!.sequence <= this.#committed) this.#waiters.splice(i, 1)[0]!.resolve();
          }
          delay = 50;
        } catch (err) {
          this.options.onRetry?.(err);
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(MAX_RETRY_MS, delay * 2);
        }
      }
    } finally {
      this.#sending = false;
    }
  }

  /** The next batches merged into one transaction (the newest value of each key), within etcd's limit. */
  #takeMerged(): { ops: WriteOp[]; count: number; sequence: number; perKey: Map<string, number> } {
    const latest = new Map<string, WriteOp>();
    const perKey = new Map<string, number>();
    let count = 0;
    let sequence = this.#committed;
    for (const batch of this.#batches) {
      if (count > 0 && latest.size + batch.ops.length > MERGE_LIMIT) break;
      for (const op of batch.ops) {
        latest.delete(op.key); // keep the write order of the newest values
        latest.set(op.key, op);
        perKey.set(op.key, (perKey.get(op.key) ?? 0) + 1);
      }
      count++;
      sequence = batch.sequence;
    }
    return { ops: [...latest.values()], count, sequence, perKey };
  }

  #fencedError(): StoreError {
    return new StoreError('SY_ERR_FENCED', this.options.path, `this controller may no longer write the cluster's state: ${this.#fencedWhy ?? 'deposed'}`);
  }
}

// Everything under one etcd prefix, kept current for a listener: a full listing, then a watch from the
// revision after it. Watches lie in three ways (APISIX #8682, #13067): history compacted away (the watch
// is cancelled), a stream that silently stops (a cut member), and a restored etcd whose revision went
// back. Each ends in the same remedy: list the whole prefix again and watch on from there.
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';

export interface FeedEntry {
  /** Relative to the prefix. */
  key: string;
  /** null: the key was deleted. */
  value: string | null;
  createRevision: number;
  modRevision: number;
}

export interface FeedListener {
  /** The whole prefix as of `revision` (at start, and after every re-list). */
  reset(entries: FeedEntry[], revision: number): void;
  /** One watch response: changes in revision order, all of them up to `revision`. */
  changes(entries: FeedEntry[], revision: number): void;
}

export interface FeedOptions {
  /** How often the feed checks that the watch keeps up with etcd (one small read). */
  probeMs?: number;
  onError?: (err: unknown, during: string) => void;
}

export type RelistReason = 'start' | 'compacted' | 'stalled' | 'revision-went-back' | 'watch-error' | 'catch-up' | 'deposed';

export class PrefixFeed {
  #revision = 0;
  #watcher: Watcher | null = null;
  #generation = 0;
  #probe: NodeJS.Timeout | null = null;
  /** The revision a probe saw the watch had not delivered yet, and when. */
  #behind: { revision: number; since: number } | null = null;
  #relisting: Promise<void> | null = null;
  #closed = false;
  /** Re-lists by reason, for /metrics and tests. */
  readonly relists = new Map<RelistReason, number>();

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly listener: FeedListener,
    private readonly options: FeedOptions = {},
  ) {}

  /** The revision the listener has seen everything up to. */
  get revision(): number {
    return this.#revision;
  }

  /** Lists and watches; resolves once the listener has the first listing. */
  async start(): Promise<void> {
    await this.relist('start');
    const probeMs = this.options.probeMs ?? 1000;
    this.#probe = setInterval(() => void this.#checkProgress(probeMs), probeMs);
    this.#probe.unref();
  }

  /** Lists the whole prefix again and watches from there (also what a new leader does to catch up). */
  relist(reason: RelistReason): Promise<void> {
    this.#relisting ??= this.#relist(reason).finally(() => (this.#relisting = null));
    return this.#relisting;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#probe) clearInterval(this.#probe);
    this.#generation++;
    await this.#watcher?.cancel().catch(() => {});
    this.#watcher = null;
  }

  /** Cancels the watch as a broken stream would, keeping the revision it had reached (see `resume`). */
  async pause(): Promise<void> {
    this.#generation++;
    const old = this.#watcher;
    this.#watcher = null;
    await old?.cancel().catch(() => {});
  }

  /**
   * Watches again from the revision after the last one delivered (a stream that broke). If etcd compacted
   * that history away, the watch is cancelled at once and the feed re-lists.
   */
  async resume(): Promise<void> {
    await this.#watchFrom(this.#revision + 1, ++this.#generation);
  }

  async #relist(reason: RelistReason): Promise<void> {
    this.relists.set(reason, (this.relists.get(reason) ?? 0) + 1);
    const generation = ++this.#generation;
    const old = this.#watcher;
    this.#watcher = null;
    void old?.cancel().catch(() => {});
    const response = await this.client.getAll().prefix(this.prefix).exec();
    if (this.#closed || generation !== this.#generation) return;
    const revision = Number(response.header.revision);
    this.#revision = revision;
    this.#behind = null;
    this.listener.reset(response.kvs.map((kv) => this.#entry(kv, false)), revision);
    await this.#watchFrom(revision + 1, generation);
  }

  /** Resolves once etcd accepted the watch, or refused it (then the error handler has taken over). */
  #watchFrom(start: number, generation: number): Promise<void> {
    if (this.#closed || generation !== this.#generation) return Promise.resolve();
    // Handlers go on before the request is sent: a compacted start revision is refused at once.
    const watcher = this.client.watch().prefix(this.prefix).startRevision(String(start)).watcher();
    this.#watcher = watcher;
    const settled = new Promise<void>((resolve) => {
      watcher.once('connected', () => resolve());
      watcher.once('error', () => resolve());
    });
    watcher.on('data', (res: IWatchResponse) => this.#onData(res, generation));
    watcher.on('error', (err: unknown) => {
      if (generation !== this.#generation) return;
      this.options.onError?.(err, 'watch');
      void this.#afterCancel().catch((e: unknown) => this.options.onError?.(e, 're-list'));
    });
    return settled;
  }

  /**
   * A cancelled watch: when etcd compacted the history it needs (3.4 says so only in a field the client
   * drops, so a read at that revision asks), only a re-list can catch up; else it is watched again.
   */
  async #afterCancel(): Promise<void> {
    try {
      await this.client.getAll().prefix(this.prefix).revision(this.#revision + 1).limit(1).exec();
    } catch (err) {
      if (/compact/i.test(String(err))) return this.relist('compacted');
    }
    await this.resume();
  }

  #onData(res: IWatchResponse, generation: number): void {
    if (generation !== this.#generation) return;
    if (res.compact_revision !== undefined && Number(res.compact_revision) > 0) {
      void this.relist('compacted').catch((e: unknown) => this.options.onError?.(e, 're-list'));
      return;
    }
    const revision = Number(res.header.revision);
    const entries = res.events.map((event) => this.#entry(event.kv, event.type === 'Delete'));
    if (entries.length === 0 && revision <= this.#revision) return;
    this.#revision = Math.max(this.#revision, revision);
    if (this.#behind !== null && this.#revision >= this.#behind.revision) this.#behind = null;
    if (entries.length > 0) this.listener.changes(entries, this.#revision);
  }

  /**
   * Compares the newest change under the prefix with what the watch delivered. Behind for longer than one
   * probe interval means a stalled stream; a lower revision than ours means etcd was restored from a backup.
   */
  async #checkProgress(probeMs: number): Promise<void> {
    if (this.#relisting !== null || this.#closed) return;
    let newest: number;
    let current: number;
    try {
      const response = await this.client.getAll().prefix(this.prefix).sort('Mod', 'Descend').limit(1).exec();
      newest = Number(response.kvs[0]?.mod_revision ?? 0);
      current = Number(response.header.revision);
    } catch {
      return; // the local member is unreachable: nothing to compare with, and the watch cannot do better
    }
    if (current < this.#revision) return void this.relist('revision-went-back').catch((e: unknown) => this.options.onError?.(e, 're-list'));
    if (newest <= this.#revision) {
      this.#behind = null;
      return;
    }
    const now = Date.now();
    if (this.#behind === null || this.#behind.revision > newest) this.#behind = { revision: newest, since: now };
    else if (now - this.#behind.since >= probeMs) void this.relist('stalled').catch((e: unknown) => this.options.onError?.(e, 're-list'));
  }

  #entry(kv: IKeyValue, deleted: boolean): FeedEntry {
    return {
      key: kv.key.toString().slice(this.prefix.length),
      value: deleted ? null : kv.value.toString(),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }
}

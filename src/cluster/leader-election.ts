// One controller at a time: each host campaigns for the leader key, created under its own lease. The
// holder leads only while it renews that lease in time by its own clock; the key's create revision is
// the fence every write compares (EtcdStore), so a leader that was paused, cut off or slow, and so lost
// its lease, can never write again even before it notices (invariant 12).
import type { Etcd3, Lease } from 'etcd3';
import type { Fence } from '../store/etcd/write-queue.js';

export interface ElectionOptions {
  client: Etcd3;
  /** The absolute leader key (`/switchyard/leader`). */
  key: string;
  /** This host's name, written as the key's value. */
  node: string;
  /** Seconds; etcd's minimum is 2. A dead leader is replaced within about this long. */
  ttlSeconds: number;
  onElected: (fence: Fence) => void;
  onDeposed: (why: string) => void;
  onError?: (err: unknown, during: string) => void;
}

/** Margin kept before the lease's end by the leader's clock: it stands down before etcd could expire it. */
const STAND_DOWN_MARGIN_MS = 500;
const CHECK_MS = 100;

export class LeaderElection {
  #lease: Lease | null = null;
  #fence: Fence | null = null;
  /** When the last renewal that etcd confirmed was sent (its TTL counts from no earlier than that). */
  #renewedAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #busy = false;
  #lastRenew = 0;
  #lastCampaign = 0;
  #leaseGrantedAt = 0;

  constructor(private readonly options: ElectionOptions) {}

  get isLeader(): boolean {
    return this.#fence !== null;
  }

  /** Campaigns now and whenever the key is free; renews while leading. */
  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => void this.#tick(), CHECK_MS);
    void this.#tick();
  }

  /** Steps down (the key is deleted with the lease, so another host takes over at once) and stops campaigning. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    const lease = this.#lease;
    this.#lease = null;
    if (this.#fence !== null) this.#depose('this host stepped down');
    await lease?.revoke().catch(() => {});
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const ttlMs = this.options.ttlSeconds * 1000;
    // Checked first, on every tick: a process resumed after SIGSTOP stands down before anything else.
    if (this.#fence !== null && Date.now() - this.#renewedAt > ttlMs - STAND_DOWN_MARGIN_MS) {
      this.#depose(`the leader lease was not renewed for ${Date.now() - this.#renewedAt} ms (TTL ${ttlMs} ms)`);
    }
    if (this.#busy) return;
    this.#busy = true;
    try {
      if (this.#fence !== null && Date.now() - this.#lastRenew >= ttlMs / 4) await this.#renew();
      else if (this.#fence === null && Date.now() - this.#lastCampaign >= 250) await this.#campaign();
    } catch (err) {
      this.options.onError?.(err, this.#fence === null ? 'campaign' : 'renew');
    } finally {
      this.#busy = false;
    }
  }

  async #campaign(): Promise<void> {
    this.#lastCampaign = Date.now();
    const { client, key, node, ttlSeconds } = this.options;
    // A follower's lease is not renewed: a fresh one once half its TTL is gone, so it never lapses mid-campaign.
    if (this.#lease === null || Date.now() - this.#leaseGrantedAt > (ttlSeconds * 1000) / 2) {
      void this.#lease?.revoke().catch(() => {});
      this.#lease = null;
      const fresh = client.lease(ttlSeconds, { autoKeepAlive: false });
      this.#leaseGrantedAt = Date.now();
      await fresh.grant();
      this.#lease = fresh;
    }
    const lease = this.#lease;
    const sentAt = Date.now();
    const leaseId = await lease.grant();
    // Create the key only if nobody holds it; the lease ties it to this host's liveness.
    const result = await client.if(key, 'Create', '==', 0).then(client.put(key).value(node).lease(leaseId)).commit();
    if (!result.succeeded || this.#stopped) return;
    // The lease may have been granted long ago: renew it now, so the term starts with a full TTL.
    const renewal = await lease.keepaliveOnce();
    if (Number(renewal.TTL) <= 0) {
      this.#lease = null;
      return;
    }
    this.#renewedAt = sentAt;
    this.#lastRenew = Date.now();
    this.#fence = { key, createRevision: Number(result.header.revision) };
    this.options.onElected(this.#fence);
  }

  async #renew(): Promise<void> {
    const lease = this.#lease;
    if (lease === null) return this.#depose('the leader lease is gone');
    const sentAt = Date.now();
    this.#lastRenew = sentAt;
    const timeout = Math.max(200, this.options.ttlSeconds * 250);
    const response = await Promise.race([
      lease.keepaliveOnce({ deadline: Date.now() + timeout }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`lease renewal unanswered after ${timeout} ms`)), timeout).unref()),
    ]);
    if (Number(response.TTL) <= 0) {
      this.#lease = null;
      return this.#depose('etcd says the leader lease expired');
    }
    if (this.#fence !== null) this.#renewedAt = sentAt;
  }

  #depose(why: string): void {
    if (this.#fence === null) return;
    this.#fence = null;
    // A lease this host held past its term may still hold a key another campaign of ours must not reuse.
    const lease = this.#lease;
    this.#lease = null;
    void lease?.revoke().catch(() => {});
    this.options.onDeposed(why);
  }
}

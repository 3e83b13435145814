// A host's own keys (its status, its instances, its metrics), all under one lease it keeps alive: should
// the host or its switchyard die, etcd deletes them all within the TTL, and every other host's tables
// drop its instances. Writes are the newest value per key, in the background; a lost lease is replaced
// and every key written again.
import { EtcdLeaseInvalidError, type Etcd3, type Lease } from 'etcd3';

export class HostLease {
  #lease: Lease | null = null;
  #leaseId: string | null = null;
  readonly #values = new Map<string, string>();
  readonly #dirty = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #writing = false;
  #closed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly onError: (err: unknown, during: string) => void = () => {},
  ) {}

  async start(): Promise<void> {
    await this.#grant();
    this.#timer = setInterval(() => void this.#keepAlive(), (this.ttlSeconds * 1000) / 3);
    this.#timer.unref();
  }

  /** Sets a key (relative to the prefix) to a value under the lease; null deletes it. */
  set(key: string, value: string | null): void {
    if (this.#closed || (this.#values.get(key) ?? null) === value) return;
    if (value === null) this.#values.delete(key);
    else this.#values.set(key, value);
    this.#dirty.add(key);
    void this.#write();
  }

  /** Revokes the lease: every key of this host is gone at once (a clean leave). */
  async revoke(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#lease?.revoke().catch(() => {});
  }

  async #grant(): Promise<void> {
    const lease = this.client.lease(this.ttlSeconds, { autoKeepAlive: false });
    this.#leaseId = await lease.grant();
    this.#lease = lease;
    for (const key of this.#values.keys()) this.#dirty.add(key);
  }

  async #keepAlive(): Promise<void> {
    if (this.#closed || this.#lease === null) return;
    try {
      const response = await this.#lease.keepaliveOnce({ deadline: Date.now() + (this.ttlSeconds * 1000) / 3 });
      if (Number(response.TTL) > 0) return;
      await this.#replaceLease();
    } catch (err) {
      this.onError(err, 'host lease keep-alive');
      // Expired while etcd could not be reached: keeping the dead lease alive would fail forever.
      if (err instanceof EtcdLeaseInvalidError && !this.#closed) await this.#replaceLease();
    }
  }

  /** A lease etcd no longer knows (expired while unreachable, or revoked): a new one, every key written again under it. */
  async #replaceLease(): Promise<void> {
    try {
      await this.#grant();
    } catch (err) {
      this.onError(err, 'host lease');
      return;
    }
    void this.#write();
  }

  async #write(): Promise<void> {
    if (this.#writing || this.#leaseId === null) return;
    this.#writing = true;
    try {
      while (this.#dirty.size > 0 && !this.#closed) {
        const keys = [...this.#dirty];
        this.#dirty.clear();
        const leaseId = this.#leaseId;
        try {
          const ops = keys.map((key) => {
            const value = this.#values.get(key);
            return value === undefined ? this.client.delete().key(this.prefix + key) : this.client.put(this.prefix + key).value(value).lease(leaseId);
          });
          await this.client.if(this.prefix, 'Version', '>', -1).then(...ops).commit();
        } catch (err) {
          for (const key of keys) this.#dirty.add(key);
          this.onError(err, 'host report');
          // A lease etcd no longer knows is replaced; anything else is tried again shortly.
          if (/lease not found/i.test(String(err))) await this.#replaceLease();
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}

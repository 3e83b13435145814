// Slows token guessing: after too many failed attempts from one address in a minute, that address is
// refused (429) for a while, whatever token it sends. Memory stays bounded by forgetting old entries.

const WINDOW_MS = 60_000;
const MAX_FAILURES = 10;
const BLOCK_MS = 60_000;
const MAX_TRACKED = 10_000;

interface Entry {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();

  /** Milliseconds the address must still wait, or 0. */
  blockedFor(address: string, now: number): number {
    const entry = this.entries.get(address);
    return entry && entry.blockedUntil > now ? entry.blockedUntil - now : 0;
  }

  /** Counts a failed attempt; returns true when it blocks the address. */
  fail(address: string, now: number): boolean {
    if (this.entries.size >= MAX_TRACKED) this.forgetOld(now);
    let entry = this.entries.get(address);
    if (!entry || now - entry.windowStart > WINDOW_MS) {
      entry = { failures: 0, windowStart: now, blockedUntil: entry?.blockedUntil ?? 0 };
      this.entries.set(address, entry);
    }
    entry.failures++;
    if (entry.failures >= MAX_FAILURES) {
      entry.blockedUntil = now + BLOCK_MS;
      entry.failures = 0;
      entry.windowStart = now;
      return true;
    }
    return false;
  }

  private forgetOld(now: number): void {
    for (const [address, entry] of this.entries) {
      if (now - entry.windowStart > WINDOW_MS && entry.blockedUntil <= now) this.entries.delete(address);
    }
    // Still full (an attack from many addresses): start over rather than grow without bound.
    if (this.entries.size >= MAX_TRACKED) this.entries.clear();
  }
}

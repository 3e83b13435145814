// Bounds and pacing for the load's workers: every worker loops while the run is on (not stopped,
// under its time and count limits) and waits between requests on a timer that a stop cuts short.
export class RunGate {
  private stopped = false;
  private issued = 0;
  private readonly wakeUps = new Set<() => void>();
  private readonly startedAt = Date.now();

  constructor(
    private readonly maxDurationMs: number,
    private readonly maxRequests: number,
  ) {}

  get running(): boolean {
    return !this.stopped && this.issued < this.maxRequests && Date.now() - this.startedAt < this.maxDurationMs;
  }

  /** Counts one request against the limit; false when the run is over. */
  take(): boolean {
    if (!this.running) return false;
    this.issued++;
    return true;
  }

  stop(): void {
    this.stopped = true;
    for (const wake of this.wakeUps) wake();
  }

  /** Waits `ms`, or less when the run stops meanwhile. */
  wait(ms: number): Promise<void> {
    if (ms <= 0 || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeUps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeUps.add(wake);
    });
  }
}

/**
 * A fixed send schedule for one worker: the next request is due `intervalMs` after the previous one
 * was due; a worker that fell behind sends at once but does not burst to catch up.
 */
export class Pacer {
  private due = Date.now();

  constructor(private readonly intervalMs: number) {}

  /** Milliseconds to wait before the next send. */
  next(): number {
    const now = Date.now();
    this.due = Math.max(this.due + this.intervalMs, now);
    return this.due - now;
  }
}

/** The shortest time between two attempts of one back-to-back worker. */
export const RETRY_FLOOR_MS = 250;

/**
 * For back-to-back workers (slow requests, streams, sessions): at most one attempt per `minMs`, so a
 * target that refuses connections is not hammered in a tight loop (and failures stay countable).
 */
export async function atMostEvery(gate: RunGate, minMs: number, attempt: () => Promise<void>): Promise<void> {
  const started = Date.now();
  await attempt();
  await gate.wait(minMs - (Date.now() - started));
}

/** A whole number in [min, max], spread evenly by a cheap deterministic sequence (no Math.random). */
export function spread(min: number, max: number, i: number): number {
  // The golden-ratio sequence covers [0, 1) evenly without clustering.
  const fraction = (i * 0.6180339887498949) % 1;
  return Math.round(min + fraction * (max - min));
}

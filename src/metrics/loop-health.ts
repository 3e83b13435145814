// How long a process's event loop stalls and how long its garbage collector pauses it, measured inside
// the process (perf_hooks) and shipped once a second as bucket counts, so the controller can merge every
// worker's into one Prometheus histogram per process: a tail latency with idle CPU shows up here.
import { PerformanceObserver } from 'node:perf_hooks';

/** Upper bounds in seconds (Prometheus `le`), shared by loop delay and GC pauses. */
export const LOOP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
const BOUNDS_MS = LOOP_BUCKETS.map((s) => s * 1000);

/** The loop-delay timer's interval: a stall of any length delays the next tick of it by that much. */
export const LOOP_RESOLUTION_MS = 10;

/** What one process saw since its last sample: non-cumulative counts per bucket (the last is +Inf) and sums. */
export interface LoopSample {
  /** `controller`, or `proxy-N` for proxy worker N. */
  process: string;
  delay: number[];
  delaySumSeconds: number;
  gc: number[];
  gcSumSeconds: number;
}

/** The bucket of a duration in ms; the last index is +Inf. */
export function loopBucketOf(ms: number): number {
  let i = 0;
  while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]!) i++;
  return i;
}

/**
 * Measures this process's loop delay and GC pauses; `take()` returns what happened since the last call.
 * The delay is sampled like perf_hooks.monitorEventLoopDelay does it (a timer every LOOP_RESOLUTION_MS; a
 * stall makes the next tick late by that much), but counted straight into the buckets: that histogram's
 * reset() forgets the interval that spans the reset, which is exactly where the shipment itself runs,
 * and its percentiles only approximate per-bucket counts.
 */
export class LoopMonitor {
  private readonly timer: NodeJS.Timeout;
  private readonly gcObserver: PerformanceObserver;
  private last = performance.now();
  private delay = emptyCounts();
  private delaySumSeconds = 0;
  private gc = emptyCounts();
  private gcSumSeconds = 0;

  constructor(private readonly process: string) {
    this.timer = setInterval(() => this.tick(), LOOP_RESOLUTION_MS).unref();
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.gc[loopBucketOf(entry.duration)]!++;
        this.gcSumSeconds += entry.duration / 1000;
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  take(): LoopSample {
    const sample: LoopSample = { process: this.process, delay: this.delay, delaySumSeconds: this.delaySumSeconds, gc: this.gc, gcSumSeconds: this.gcSumSeconds };
    this.delay = emptyCounts();
    this.delaySumSeconds = 0;
    this.gc = emptyCounts();
    this.gcSumSeconds = 0;
    return sample;
  }

  stop(): void {
    clearInterval(this.timer);
    this.gcObserver.disconnect();
  }

  private tick(): void {
    const now = performance.now();
    const lateMs = Math.max(0, now - this.last - LOOP_RESOLUTION_MS);
    this.last = now;
    this.delay[loopBucketOf(lateMs)]!++;
    this.delaySumSeconds += lateMs / 1000;
  }
}

function emptyCounts(): number[] {
  return new Array<number>(LOOP_BUCKETS.length + 1).fill(0);
}

/** One process's totals since it started (merged from its samples), as a Prometheus histogram needs them. */
export class LoopSeries {
  readonly delay = new Float64Array(LOOP_BUCKETS.length + 1);
  delaySumSeconds = 0;
  readonly gc = new Float64Array(LOOP_BUCKETS.length + 1);
  gcSumSeconds = 0;

  add(sample: LoopSample): void {
    for (let i = 0; i < this.delay.length; i++) {
      this.delay[i]! += sample.delay[i] ?? 0;
      this.gc[i]! += sample.gc[i] ?? 0;
    }
    this.delaySumSeconds += sample.delaySumSeconds;
    this.gcSumSeconds += sample.gcSumSeconds;
  }
}

// Fixed-bucket latency histogram: one array increment per observation, cheap enough for every request.

/** Upper bounds in seconds, as Prometheus `le` labels. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;
const BOUNDS_MS = LATENCY_BUCKETS.map((s) => s * 1000);

export class LatencyHistogram {
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly counts = new Float64Array(LATENCY_BUCKETS.length + 1);
  sumSeconds = 0;
  count = 0;

  observe(ms: number): void {
    this.counts[bucketOf(ms)]!++;
    this.sumSeconds += ms / 1000;
    this.count++;
  }

  /** Adds counts observed elsewhere (a proxy worker): non-cumulative per bucket, and their sum. */
  add(counts: readonly number[], sumSeconds: number): void {
    for (let i = 0; i < counts.length && i < this.counts.length; i++) {
      this.counts[i]! += counts[i]!;
      this.count += counts[i]!;
    }
    this.sumSeconds += sumSeconds;
  }
}

/** The bucket a latency falls into; the last index is +Inf. */
export function bucketOf(ms: number): number {
  let i = 0;
  while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]!) i++;
  return i;
}

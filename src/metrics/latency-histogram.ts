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
    let i = 0;
    while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]!) i++;
    this.counts[i]!++;
    this.sumSeconds += ms / 1000;
    this.count++;
  }
}

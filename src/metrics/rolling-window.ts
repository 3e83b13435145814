// Rolling per-second statistics over the last few minutes: requests, status codes, upstream errors and
// a latency histogram per second. Recording is a few array increments; summing happens only when the
// analysis or the dashboard asks.
import { binOf, LATENCY_BIN_COUNT, quantileOfBins } from './latency-bins.js';
import type { SecondSample } from './observations.js';

export const WINDOW_SECONDS = 300;

export interface WindowTotals {
  requests: number;
  /** Responses whose status the analysis counts as errors, plus upstream failures. */
  errors: number;
  upstreamErrors: number;
  /** Requests per latency bin (see latency-bins.ts). */
  latency: Float64Array;
}

export interface SecondPoint {
  second: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

export class RollingWindow {
  private readonly epochs = new Float64Array(WINDOW_SECONDS).fill(-1);
  private readonly requests = new Float64Array(WINDOW_SECONDS);
  private readonly upstream = new Float64Array(WINDOW_SECONDS);
  private readonly codes: Map<number, number>[] = Array.from({ length: WINDOW_SECONDS }, () => new Map<number, number>());
  private readonly bins = new Uint32Array(WINDOW_SECONDS * LATENCY_BIN_COUNT);
  lastSecond = -1;

  /** `status` 0 means no response (the exchange failed before one). */
  record(second: number, status: number, upstreamError: boolean, latencyMs: number): void {
    const slot = this.slot(second);
    this.requests[slot]!++;
    // A request is one error at most: an upstream failure is not also counted by its 502/504.
    if (upstreamError) this.upstream[slot]!++;
    else {
      const codes = this.codes[slot]!;
      codes.set(status, (codes.get(status) ?? 0) + 1);
    }
    this.bins[slot * LATENCY_BIN_COUNT + binOf(latencyMs)]!++;
    this.lastSecond = second;
  }

  /**
   * Adds one second counted elsewhere (a proxy worker's sample). A second older than the window holds
   * is dropped; one that arrives late for a second still held adds to it.
   */
  add(sample: SecondSample): void {
    if (sample.second <= this.lastSecond - WINDOW_SECONDS) return;
    const slot = this.slot(sample.second);
    this.requests[slot]! += sample.requests;
    this.upstream[slot]! += sample.upstream;
    const codes = this.codes[slot]!;
    for (let i = 0; i < sample.codes.length; i += 2) codes.set(sample.codes[i]!, (codes.get(sample.codes[i]!) ?? 0) + sample.codes[i + 1]!);
    const base = slot * LATENCY_BIN_COUNT;
    for (let i = 0; i < sample.bins.length; i += 2) this.bins[base + sample.bins[i]!]! += sample.bins[i + 1]!;
    if (sample.second > this.lastSecond) this.lastSecond = sample.second;
  }

  /** Totals over seconds [from, to], both included, limited to what the window still holds. */
  totals(from: number, to: number, isError: (status: number) => boolean): WindowTotals {
    const latency = new Float64Array(LATENCY_BIN_COUNT);
    let requests = 0;
    let errors = 0;
    let upstreamErrors = 0;
    for (let second = Math.max(from, to - WINDOW_SECONDS + 1); second <= to; second++) {
      const slot = second % WINDOW_SECONDS;
      if (this.epochs[slot] !== second) continue;
      requests += this.requests[slot]!;
      upstreamErrors += this.upstream[slot]!;
      for (const [status, count] of this.codes[slot]!) if (status !== 0 && isError(status)) errors += count;
      const base = slot * LATENCY_BIN_COUNT;
      for (let b = 0; b < LATENCY_BIN_COUNT; b++) latency[b]! += this.bins[base + b]!;
    }
    return { requests, errors: errors + upstreamErrors, upstreamErrors, latency };
  }

  /** One point per second over [from, to] (for charts); empty seconds count as zero requests. */
  series(from: number, to: number, isError: (status: number) => boolean): SecondPoint[] {
    const points: SecondPoint[] = [];
    for (let second = Math.max(from, to - WINDOW_SECONDS + 1); second <= to; second++) {
      const t = this.totals(second, second, isError);
      points.push({ second, requests: t.requests, errors: t.errors, p50: quantileOfBins(t.latency, 0.5), p99: quantileOfBins(t.latency, 0.99) });
    }
    return points;
  }

  private slot(second: number): number {
    const slot = second % WINDOW_SECONDS;
    if (this.epochs[slot] !== second) {
      this.epochs[slot] = second;
      this.requests[slot] = 0;
      this.upstream[slot] = 0;
      this.codes[slot]!.clear();
      this.bins.fill(0, slot * LATENCY_BIN_COUNT, (slot + 1) * LATENCY_BIN_COUNT);
    }
    return slot;
  }
}

/** Parses an analysis status set like "5xx,429" into a predicate. */
export function errorStatusMatcher(spec: string): (status: number) => boolean {
  const classes = new Set<number>();
  const exact = new Set<number>();
  for (const part of spec.split(',').map((p) => p.trim().toLowerCase())) {
    if (/^[1-5]xx$/.test(part)) classes.add(Number(part[0]));
    else if (/^\d{3}$/.test(part)) exact.add(Number(part));
  }
  return (status) => classes.has(Math.floor(status / 100)) || exact.has(status);
}

export function emptyTotals(): WindowTotals {
  return { requests: 0, errors: 0, upstreamErrors: 0, latency: new Float64Array(LATENCY_BIN_COUNT) };
}

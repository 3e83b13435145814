// Smooth weighted round-robin (nginx's algorithm): exact shares, interleaved rather than bursty. The
// sequence it produces for fixed weights repeats, so it is computed once per table and a pick is one
// step along it (flat from 1 to thousands of endpoints); the full O(n) pass runs only for a pick that
// meets an endpoint that is out of rotation, already tried or slow-starting.
import type { Endpoint } from '../endpoint.js';
import { isCandidate, type Balancer, type PickContext } from './balancer.js';

/** Longest precomputed sequence (sum of weights over their gcd); heavier tables use the O(n) pass. */
const MAX_SCHEDULE = 65_536;

/** In pass mode, how many picks between checks whether every endpoint is back at full weight. */
const RECHECK_EVERY = 1024;

export class RoundRobinBalancer implements Balancer {
  private readonly current: Float64Array;
  /** Endpoint indexes in smooth-WRR order for the static weights, or null when it would be too long. */
  private readonly schedule: Int32Array | null;
  private cursor = 0;
  /**
   * `sequence`: every endpoint is available at its full weight, so the precomputed sequence is exactly
   * what the pass would choose. `pass`: some endpoint is out or ramping up; every pick is a full pass
   * (exact shares among the others) until a check finds them all back.
   */
  private mode: 'sequence' | 'pass';
  private untilCheck = 0;

  constructor(private readonly endpoints: readonly Endpoint[]) {
    this.current = new Float64Array(endpoints.length);
    this.schedule = scheduleOf(endpoints.map((e) => e.weight));
    this.mode = 'pass';
  }

  pick(ctx: PickContext): Endpoint | undefined {
    const { schedule, endpoints } = this;
    if (this.mode === 'pass' && schedule !== null && --this.untilCheck < 0) this.check(ctx.now);
    if (this.mode === 'sequence') {
      const endpoint = endpoints[schedule![this.cursor]!]!;
      this.cursor = this.cursor + 1 === schedule!.length ? 0 : this.cursor + 1;
      if (!endpoint.isAvailable(ctx.now) || endpoint.effectiveWeight(ctx.now) !== endpoint.weight) {
        this.mode = 'pass';
        this.untilCheck = RECHECK_EVERY;
        this.current.fill(0);
      } else if (ctx.exclude === null || !ctx.exclude.includes(endpoint)) return endpoint;
    }
    return this.pickByPass(ctx);
  }

  /** Back to the sequence once every endpoint is available at its full weight. */
  private check(now: number): void {
    this.untilCheck = RECHECK_EVERY;
    for (const e of this.endpoints) {
      if (e.weight > 0 && (!e.isAvailable(now) || e.effectiveWeight(now) !== e.weight)) return;
    }
    this.mode = 'sequence';
    this.cursor = 0;
  }

  /** One smooth-WRR step over every endpoint with its current (slow-start) weight. */
  private pickByPass(ctx: PickContext): Endpoint | undefined {
    const { endpoints, current } = this;
    let total = 0;
    let best = -1;
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[i]!;
      if (!isCandidate(endpoint, ctx)) continue;
      const weight = endpoint.effectiveWeight(ctx.now);
      current[i]! += weight;
      total += weight;
      if (best < 0 || current[i]! > current[best]!) best = i;
    }
    if (best < 0) return undefined;
    current[best]! -= total;
    return endpoints[best];
  }
}

/**
 * The repeating smooth-WRR sequence for whole-number weights (zero-weight endpoints never appear), or
 * null when the weights are fractional, all zero, or the sequence would be longer than MAX_SCHEDULE.
 * @example scheduleOf([5, 1, 1]) // Int32Array [0, 0, 1, 0, 2, 0, 0]
 */
export function scheduleOf(weights: readonly number[]): Int32Array | null {
  if (weights.some((w) => !Number.isInteger(w) || w < 0)) return null;
  const divisor = weights.reduce((g, w) => (w > 0 ? gcd(g, w) : g), 0);
  if (divisor === 0) return null;
  const scaled = weights.map((w) => w / divisor);
  const period = scaled.reduce((a, b) => a + b, 0);
  if (period > MAX_SCHEDULE) return null;
  const current = new Float64Array(scaled.length);
  const schedule = new Int32Array(period);
  for (let step = 0; step < period; step++) {
    let best = -1;
    for (let i = 0; i < scaled.length; i++) {
      if (scaled[i] === 0) continue;
      current[i]! += scaled[i]!;
      if (best < 0 || current[i]! > current[best]!) best = i;
    }
    current[best]! -= period;
    schedule[step] = best;
  }
  return schedule;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

// Power of two choices: sample two endpoints at random, send to the one with less in-flight per weight.
// Nearly as good as least-connections, with no shared ordering state.
import type { Endpoint } from '../endpoint.js';
import { isCandidate, type Balancer, type PickContext } from './balancer.js';

export class RandomTwoBalancer implements Balancer {
  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly random: () => number = Math.random,
  ) {}

  pick(ctx: PickContext): Endpoint | undefined {
    const { endpoints } = this;
    const n = endpoints.length;
    if (n === 0) return undefined;
    if (n === 1) return isCandidate(endpoints[0]!, ctx) ? endpoints[0] : undefined;
    const i = Math.floor(this.random() * n);
    const j = (i + 1 + Math.floor(this.random() * (n - 1))) % n;
    const a = endpoints[i]!;
    const b = endpoints[j]!;
    const aOk = isCandidate(a, ctx);
    const bOk = isCandidate(b, ctx);
    if (aOk && bOk) return load(a, ctx.now) <= load(b, ctx.now) ? a : b;
    // A sample that cannot take the request must not hand the other one the win unchallenged.
    return this.pickAmongAvailable(ctx);
  }

  /** Slow path when a sample is unavailable: sample two among the candidates only. */
  private pickAmongAvailable(ctx: PickContext): Endpoint | undefined {
    const candidates = this.endpoints.filter((e) => isCandidate(e, ctx));
    if (candidates.length <= 1) return candidates[0];
    const i = Math.floor(this.random() * candidates.length);
    const j = (i + 1 + Math.floor(this.random() * (candidates.length - 1))) % candidates.length;
    const a = candidates[i]!;
    const b = candidates[j]!;
    return load(a, ctx.now) <= load(b, ctx.now) ? a : b;
  }
}

function load(endpoint: Endpoint, now: number): number {
  return (endpoint.inFlight + 1) / Math.max(endpoint.effectiveWeight(now), 1e-9);
}

// Weighted least-connections: fewest in-flight per unit of weight; ties rotate so equal endpoints share.
import type { Endpoint } from '../endpoint.js';
import { isCandidate, type Balancer, type PickContext } from './balancer.js';

export class LeastConnectionsBalancer implements Balancer {
  private offset = 0;

  constructor(private readonly endpoints: readonly Endpoint[]) {}

  pick(ctx: PickContext): Endpoint | undefined {
    const { endpoints } = this;
    const n = endpoints.length;
    if (n === 0) return undefined;
    const start = this.offset++ % n;
    let best: Endpoint | undefined;
    let bestScore = Infinity;
    for (let k = 0; k < n; k++) {
      const endpoint = endpoints[(start + k) % n]!;
      if (!isCandidate(endpoint, ctx)) continue;
      const weight = endpoint.effectiveWeight(ctx.now);
      if (weight <= 0) continue;
      const score = (endpoint.inFlight + 1) / weight;
      if (score < bestScore) {
        best = endpoint;
        bestScore = score;
      }
    }
    return best;
  }
}

// Weighted least-connections: fewest in-flight per unit of weight. Ties are shared in turn among the
// tied endpoints only, so an unavailable neighbour never doubles another endpoint's share.
import type { Endpoint } from '../endpoint.js';
import { isCandidate, type Balancer, type PickContext } from './balancer.js';

export class LeastConnectionsBalancer implements Balancer {
  private turn = 0;

  constructor(private readonly endpoints: readonly Endpoint[]) {}

  pick(ctx: PickContext): Endpoint | undefined {
    const { endpoints } = this;
    let bestScore = Infinity;
    let ties = 0;
    for (const endpoint of endpoints) {
      const score = scoreOf(endpoint, ctx);
      if (score < bestScore) {
        bestScore = score;
        ties = 1;
      } else if (score === bestScore && score !== Infinity) ties++;
    }
    if (ties === 0) return undefined;
    let k = this.turn++ % ties;
    for (const endpoint of endpoints) {
      if (scoreOf(endpoint, ctx) === bestScore && k-- === 0) return endpoint;
    }
    return undefined;
  }
}

function scoreOf(endpoint: Endpoint, ctx: PickContext): number {
  if (!isCandidate(endpoint, ctx)) return Infinity;
  const weight = endpoint.effectiveWeight(ctx.now);
  return weight > 0 ? (endpoint.inFlight + 1) / weight : Infinity;
}

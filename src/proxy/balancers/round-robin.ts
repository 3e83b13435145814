// Smooth weighted round-robin (nginx's algorithm): exact shares, interleaved rather than bursty.
import type { Endpoint } from '../endpoint.js';
import { isCandidate, type Balancer, type PickContext } from './balancer.js';

export class RoundRobinBalancer implements Balancer {
  private readonly current: Float64Array;

  constructor(private readonly endpoints: readonly Endpoint[]) {
    this.current = new Float64Array(endpoints.length);
  }

  pick(ctx: PickContext): Endpoint | undefined {
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

// Consistent hashing by weighted rendezvous (highest random weight): each key goes to the endpoint with
// the highest score; when an endpoint leaves, only the keys it held move, spread over the others.
import type { Endpoint } from '../endpoint.js';
import { fnv1a, mix } from '../hashing.js';
import { isCandidate, type Balancer, type PickContext } from './balancer.js';

const TWO_POW_32 = 4294967296;

export class HashBalancer implements Balancer {
  private readonly seeds: Uint32Array;

  constructor(private readonly endpoints: readonly Endpoint[]) {
    // Seeded by id, not position, so a key's endpoint does not depend on table order.
    this.seeds = Uint32Array.from(endpoints, (e) => fnv1a(e.id));
  }

  pick(ctx: PickContext): Endpoint | undefined {
    const { endpoints, seeds } = this;
    let best: Endpoint | undefined;
    let bestScore = -Infinity;
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[i]!;
      if (!isCandidate(endpoint, ctx) || endpoint.weight <= 0) continue;
      // Uniform in (0, 1); -w/ln(u) gives each endpoint a share proportional to its weight.
      const u = (mix(ctx.keyHash, seeds[i]!) + 0.5) / TWO_POW_32;
      const score = -endpoint.weight / Math.log(u);
      if (score > bestScore) {
        best = endpoint;
        bestScore = score;
      }
    }
    return best;
  }
}

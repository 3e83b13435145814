// Holds every live Endpoint by id so that routing tables built one after another share them
// (in-flight counts, health and connection pools survive a table swap).
import { Endpoint, type UpstreamTimeouts } from './endpoint.js';

export interface EndpointSpec {
  /** Stable id: an instance id, or the address for static targets. */
  id: string;
  address: string;
  weight: number;
  /** Passed its active health check (invariant 1): the controller's checker decides, the table carries it. */
  healthy: boolean;
  /** When it last became healthy (epoch ms), where slow start ramps from. */
  healthySince: number;
}

export class EndpointRegistry {
  private readonly byId = new Map<string, Endpoint>();

  /** The endpoint for a spec, created on first use; its weight follows the latest spec. */
  ensure(spec: EndpointSpec, timeouts: UpstreamTimeouts): Endpoint {
    let endpoint = this.byId.get(spec.id);
    // A draining endpoint is on its way out (its pool is about to close): a returning id gets a new one.
    if (endpoint === undefined || endpoint.address !== spec.address || endpoint.draining) {
      endpoint = new Endpoint(spec.id, spec.address, spec.weight, timeouts);
      this.byId.set(spec.id, endpoint);
    }
    endpoint.weight = spec.weight;
    endpoint.setHealth(spec.healthy, spec.healthySince);
    return endpoint;
  }

  get(id: string): Endpoint | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<Endpoint> {
    return this.byId.values();
  }

  /** Forgets an endpoint and closes its connections; call after it has drained. */
  async retire(endpoint: Endpoint): Promise<void> {
    if (this.byId.get(endpoint.id) === endpoint) this.byId.delete(endpoint.id);
    endpoint.upstream.destroy();
    await endpoint.pool.destroy();
  }

  async closeAll(): Promise<void> {
    const endpoints = [...this.byId.values()];
    this.byId.clear();
    for (const e of endpoints) e.upstream.destroy();
    await Promise.all(endpoints.map((e) => e.pool.destroy()));
  }
}

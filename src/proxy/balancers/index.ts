// Builds the balancer a service's policy names for one release's endpoints.
import type { Endpoint } from '../endpoint.js';
import type { Balancer } from './balancer.js';
import { HashBalancer } from './hash.js';
import { LeastConnectionsBalancer } from './least-connections.js';
import { RandomTwoBalancer } from './random-two.js';
import { RoundRobinBalancer } from './round-robin.js';

export type BalanceAlgorithm = 'round-robin' | 'least-connections' | 'random-two' | 'hash';
export type { Balancer, PickContext } from './balancer.js';

export function createBalancer(algorithm: BalanceAlgorithm, endpoints: readonly Endpoint[]): Balancer {
  switch (algorithm) {
    case 'round-robin':
      return new RoundRobinBalancer(endpoints);
    case 'least-connections':
      return new LeastConnectionsBalancer(endpoints);
    case 'random-two':
      return new RandomTwoBalancer(endpoints);
    case 'hash':
      return new HashBalancer(endpoints);
  }
}

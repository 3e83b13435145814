// `npm run bench:routing`: the routing decision alone (table.match + chooseEndpoint), in nanoseconds per
// request, from 1 to 1,000 endpoints in one service and from 1 to 100 services, for each balancer. No
// sockets: endpoints are built at documentation addresses nothing listens on, and never connected.
import type { IncomingMessage } from 'node:http';
import { chooseEndpoint, type Routed } from '../../src/proxy/choose-endpoint.js';
import { EndpointRegistry } from '../../src/proxy/endpoint-registry.js';
import type { BalanceAlgorithm } from '../../src/proxy/balancers/index.js';
import { buildTable, ServiceStates, type RoutingTable, type ServiceSpec } from '../../src/proxy/routing-table.js';
import { testPolicy } from '../../test/helpers/proxy.js';

const DECISIONS = 200_000;
const ROUNDS = 5;

function service(name: string, endpoints: number, balance: BalanceAlgorithm, match: ServiceSpec['match']): ServiceSpec {
  return {
    name,
    match,
    policy: testPolicy({ balance, hashKey: balance === 'hash' ? { kind: 'ip' } : null }),
    releases: [
      {
        name: 'v1',
        weight: 100,
        endpoints: Array.from({ length: endpoints }, (_, i) => ({ id: `${name}-${i}`, address: `192.0.2.${(i % 250) + 1}:${1000 + i}`, weight: 1, healthy: true, healthySince: 0 })),
      },
    ],
    rules: [],
  };
}

interface Shape {
  label: string;
  services: number;
  endpoints: number;
  /** Services told apart by Host, or by path prefix on one host. */
  by: 'host' | 'path';
}

/** Median ns per decision over ROUNDS rounds of DECISIONS requests spread over every service. */
function measure(table: RoutingTable, shape: Shape): number {
  const requests = Array.from({ length: 64 }, (_, i) => {
    const k = i % shape.services;
    const host = shape.by === 'host' ? `s${k}.example.com` : 'example.com';
    const path = shape.by === 'host' ? '/item/1' : `/s${k}/item/1`;
    const req = { headers: {}, socket: { remoteAddress: `10.0.${i}.1` } } as unknown as IncomingMessage;
    const routed: Routed & { release: Routed['release'] } = { req, cookie: undefined, release: null, triedEndpoints: null, addSetCookie: () => {} };
    return { host, path, routed };
  });
  const samples: number[] = [];
  let sink = 0;
  for (let round = 0; round < ROUNDS + 1; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < DECISIONS; i++) {
      const r = requests[i & 63]!;
      const svc = table.match(r.host, r.path)!;
      r.routed.release = null;
      const endpoint = chooseEndpoint(svc, r.routed, 1_000_000);
      if (endpoint !== undefined) sink++;
    }
    const ns = Number(process.hrtime.bigint() - started) / DECISIONS;
    if (round > 0) samples.push(ns); // round 0 warms the JIT
  }
  if (sink === 0) throw new Error('no decision found an endpoint');
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const shapes: Shape[] = [
  ...[1, 10, 100, 1000].map((endpoints) => ({ label: `1 service, ${endpoints} endpoints`, services: 1, endpoints, by: 'host' as const })),
  ...[10, 100].map((services) => ({ label: `${services} services by host, 10 endpoints each`, services, endpoints: 10, by: 'host' as const })),
  ...[10, 100].map((services) => ({ label: `${services} services by path prefix, 10 endpoints each`, services, endpoints: 10, by: 'path' as const })),
];
const balancers: BalanceAlgorithm[] = ['round-robin', 'random-two', 'least-connections', 'hash'];

const registry = new EndpointRegistry();
console.log(`routing decision (table.match + chooseEndpoint), median ns per request over ${ROUNDS} rounds of ${DECISIONS}; node ${process.version}`);
console.log(['shape'.padEnd(46), ...balancers.map((b) => b.padStart(18))].join(''));
for (const shape of shapes) {
  const cells: string[] = [];
  for (const balance of balancers) {
    const specs = Array.from({ length: shape.services }, (_, k) =>
      service(`s${k}`, shape.endpoints, balance, shape.by === 'host' ? { hosts: [`s${k}.example.com`], pathPrefix: '/', stripPrefix: false } : { hosts: [], pathPrefix: `/s${k}`, stripPrefix: false }),
    );
    const table = buildTable({ services: specs }, 1, registry, new ServiceStates());
    cells.push(measure(table, shape).toFixed(0).padStart(18));
  }
  console.log([shape.label.padEnd(46), ...cells].join(''));
}
await registry.closeAll();

// Starts an in-process proxy on 127.0.0.1:0 over given releases, with test-friendly defaults.
import type { ListenSpec } from '../../src/proxy/edge/listen-spec.js';
import { Proxy, type ProxyOptions } from '../../src/proxy/proxy.js';
import type { ReleaseSpec, RoutingTable, ServicePolicy, ServiceSpec, TableSpec } from '../../src/proxy/routing-table.js';

export function testPolicy(overrides: Partial<ServicePolicy> = {}): ServicePolicy {
  return {
    balance: 'round-robin',
    hashKey: null,
    sticky: null,
    timeouts: { connect: 2000, response: 10_000, idle: 10_000, keepAlive: 4000 },
    retries: 2,
    retryBudget: { ratio: 0.2, minPerSecond: 5 },
    outlier: { consecutiveFailures: 5, baseEjectionTime: 30_000, maxEjectionTime: 300_000, maxEjectionPercent: 0.5 },
    slowStartMs: 0,
    ...overrides,
  };
}

export const testLimits: ProxyOptions['limits'] = {
  headersTimeout: 10_000,
  requestTimeout: 60_000,
  keepAliveTimeout: 5000,
  maxHeaderSize: 16 * 1024,
  maxConnections: 10_000,
  maxBodySize: 0,
  maxUrlLength: 8192,
  sendTimeout: 60_000,
  maxWebSocketFrame: 0,
};

/** A one-service table spec; endpoint ids are the addresses. */
export function serviceSpec(
  addresses: string[] | ReleaseSpec[],
  policy: Partial<ServicePolicy> = {},
  extra: Partial<ServiceSpec> = {},
): ServiceSpec {
  const releases: ReleaseSpec[] =
    typeof addresses[0] === 'string' || addresses.length === 0
      ? [{ name: 'v1', weight: 100, endpoints: (addresses as string[]).map((a) => ({ id: a, address: a, weight: 1, healthy: true, healthySince: 0 })) }]
      : (addresses as ReleaseSpec[]);
  return {
    name: 'web',
    match: { hosts: [], pathPrefix: '/', stripPrefix: false },
    policy: testPolicy(policy),
    releases,
    rules: [],
    ...extra,
  };
}

export interface RunningProxy {
  proxy: Proxy;
  port: number;
  url: string;
  /** Swaps in a table (its endpoints' health as the spec says). */
  swap(spec: TableSpec): RoutingTable;
  close(): Promise<void>;
}

export async function startProxy(spec: TableSpec, options: Partial<ProxyOptions> = {}, listen: Partial<ListenSpec> = {}): Promise<RunningProxy> {
  const proxy = new Proxy({ limits: testLimits, dropServerHeader: false, ...options });
  const swap = (next: TableSpec) => proxy.swap(next);
  swap(spec);
  const [bound] = await proxy.listen([{ host: '127.0.0.1', port: 0, ...listen }]);
  const port = bound!.port;
  return { proxy, port, url: `http://127.0.0.1:${port}`, swap, close: async () => void (await proxy.close(1000)) };
}

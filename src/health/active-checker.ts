// Active health checks: each watched endpoint is probed every interval (HTTP GET on a path, 2xx/3xx is
// healthy; or a TCP connect when no path is set). Thresholds turn probe results into the endpoint's
// healthy flag, which the balancers read (invariant 1: unhealthy until a check has passed).
import { connect } from 'node:net';
import { Agent, request } from 'undici';
import type { Endpoint } from '../proxy/endpoint.js';

export interface HealthCheckPolicy {
  /** HTTP path to GET; null means a TCP connect check. */
  path: string | null;
  interval: number;
  timeout: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** HTTPS checks for instances that speak TLS. */
  tls?: { ca?: string; serverName?: string } | null;
}

export interface ProbeResult {
  ok: boolean;
  /** Status code or error, for events and status output. */
  detail: string;
}

export type HealthListener = (endpoint: Endpoint, healthy: boolean, result: ProbeResult) => void;

interface Watch {
  endpoint: Endpoint;
  policy: HealthCheckPolicy;
  timer: NodeJS.Timeout | null;
  successes: number;
  failures: number;
  last: ProbeResult | null;
  stopped: boolean;
  probed: Promise<void>;
  markProbed: () => void;
}

export class HealthChecker {
  private readonly watches = new Map<Endpoint, Watch>();
  private readonly agent = new Agent({ keepAliveTimeout: 4000, connections: 2 });
  private readonly listeners: HealthListener[] = [];

  onChange(listener: HealthListener): void {
    this.listeners.push(listener);
  }

  /** Starts probing an endpoint now and then every interval. */
  watch(endpoint: Endpoint, policy: HealthCheckPolicy): void {
    if (this.watches.has(endpoint)) return;
    let markProbed = () => {};
    const probed = new Promise<void>((resolve) => (markProbed = resolve));
    const watch: Watch = { endpoint, policy, timer: null, successes: 0, failures: 0, last: null, stopped: false, probed, markProbed };
    this.watches.set(endpoint, watch);
    void this.run(watch);
  }

  /** Applies a changed check (a reload) to an endpoint already watched: counters restart, probe now. */
  updatePolicy(endpoint: Endpoint, policy: HealthCheckPolicy): void {
    const watch = this.watches.get(endpoint);
    if (!watch || JSON.stringify(watch.policy) === JSON.stringify(policy)) return;
    this.unwatch(endpoint);
    this.watch(endpoint, policy);
  }

  unwatch(endpoint: Endpoint): void {
    const watch = this.watches.get(endpoint);
    if (!watch) return;
    watch.stopped = true;
    watch.markProbed();
    if (watch.timer) clearTimeout(watch.timer);
    this.watches.delete(endpoint);
  }

  /** Resolves once the endpoint has been probed at least once (or is not watched). */
  firstProbe(endpoint: Endpoint): Promise<void> {
    return this.watches.get(endpoint)?.probed ?? Promise.resolve();
  }

  isWatching(endpoint: Endpoint): boolean {
    return this.watches.has(endpoint);
  }

  lastResult(endpoint: Endpoint): ProbeResult | null {
    return this.watches.get(endpoint)?.last ?? null;
  }

  async close(): Promise<void> {
    for (const endpoint of [...this.watches.keys()]) this.unwatch(endpoint);
    await this.agent.close();
  }

  private async run(watch: Watch): Promise<void> {
    const result = await probe(watch.endpoint.address, watch.policy, this.agent);
    if (watch.stopped) return watch.markProbed();
    watch.last = result;
    this.apply(watch, result);
    watch.markProbed();
    watch.timer = setTimeout(() => void this.run(watch), watch.policy.interval);
    watch.timer.unref();
  }

  private apply(watch: Watch, result: ProbeResult): void {
    const { endpoint, policy } = watch;
    if (result.ok) {
      watch.successes++;
      watch.failures = 0;
      if (!endpoint.healthy && watch.successes >= policy.healthyThreshold) {
        endpoint.markHealthy(Date.now());
        this.emit(endpoint, true, result);
      }
    } else {
      watch.failures++;
      watch.successes = 0;
      if (endpoint.healthy && watch.failures >= policy.unhealthyThreshold) {
        endpoint.markUnhealthy();
        this.emit(endpoint, false, result);
      }
    }
  }

  private emit(endpoint: Endpoint, healthy: boolean, result: ProbeResult): void {
    for (const listener of this.listeners) listener(endpoint, healthy, result);
  }
}

/** One probe of an address. */
export async function probe(address: string, policy: HealthCheckPolicy, agent?: Agent): Promise<ProbeResult> {
  if (policy.path === null) return tcpProbe(address, policy.timeout);
  try {
    const tls = policy.tls ?? null;
    const response = await request(`${tls ? 'https' : 'http'}://${address}${policy.path}`, {
      method: 'GET',
      headers: { 'user-agent': 'switchyard-health-check' },
      dispatcher: tls ? tlsAgent(tls) : agent,
      headersTimeout: policy.timeout,
      bodyTimeout: policy.timeout,
      signal: AbortSignal.timeout(policy.timeout),
    });
    await response.body.dump();
    const ok = response.statusCode >= 200 && response.statusCode < 400;
    return { ok, detail: `HTTP ${response.statusCode}` };
  } catch (err) {
    return { ok: false, detail: describeError(err) };
  }
}

const tlsAgents = new Map<string, Agent>();

/** One agent per TLS setting, so checks reuse verified connections. */
function tlsAgent(tls: { ca?: string; serverName?: string }): Agent {
  const key = `${tls.serverName ?? ''}\n${tls.ca ?? ''}`;
  let agent = tlsAgents.get(key);
  if (agent === undefined) tlsAgents.set(key, (agent = new Agent({ connect: { ca: tls.ca, servername: tls.serverName } })));
  return agent;
}

function tcpProbe(address: string, timeout: number): Promise<ProbeResult> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, detail: 'TCP connect' });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, detail: 'TCP connect timed out' });
    });
    socket.once('error', (err) => resolve({ ok: false, detail: describeError(err) }));
  });
}

function describeError(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = 'code' in err ? String(err.code) : '';
    if (code) return code;
    if ('name' in err && err.name === 'TimeoutError') return 'timed out';
  }
  return err instanceof Error ? err.message : String(err);
}

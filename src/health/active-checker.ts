// Active health checks: each watched target is probed every interval (HTTP GET on a path, 2xx/3xx is
// healthy; or a TCP connect when no path is set). Thresholds turn probe results into a healthy flag that
// the controller publishes in the routing table (invariant 1: unhealthy until a check has passed).
import { connect } from 'node:net';
import { Agent, request } from 'undici';

/** Something with an address to probe; watched by identity. */
export interface HealthTarget {
  readonly address: string;
}

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

export type HealthListener<T extends HealthTarget> = (target: T, healthy: boolean, result: ProbeResult) => void;

interface Watch<T> {
  target: T;
  policy: HealthCheckPolicy;
  healthy: boolean;
  /** When the target last became healthy (epoch ms); 0 while it never was. */
  healthySince: number;
  timer: NodeJS.Timeout | null;
  successes: number;
  failures: number;
  last: ProbeResult | null;
  stopped: boolean;
  probed: Promise<void>;
  markProbed: () => void;
}

export class HealthChecker<T extends HealthTarget = HealthTarget> {
  private readonly watches = new Map<T, Watch<T>>();
  private readonly agent = new Agent({ keepAliveTimeout: 4000, connections: 2 });
  private readonly listeners: HealthListener<T>[] = [];

  onChange(listener: HealthListener<T>): void {
    this.listeners.push(listener);
  }

  /**
   * Starts probing a target now and then every interval. `assumeHealthy` (since when) is for a target
   * that was serving before this checker existed (adopted after a restart): it stays in rotation until
   * its checks fail, instead of leaving it until one passes.
   */
  watch(target: T, policy: HealthCheckPolicy, assumeHealthy?: { since: number }): void {
    if (this.watches.has(target)) return;
    let markProbed = () => {};
    const probed = new Promise<void>((resolve) => (markProbed = resolve));
    const watch: Watch<T> = {
      target,
      policy,
      healthy: assumeHealthy !== undefined,
      healthySince: assumeHealthy?.since ?? 0,
      timer: null,
      successes: 0,
      failures: 0,
      last: null,
      stopped: false,
      probed,
      markProbed,
    };
    this.watches.set(target, watch);
    void this.run(watch);
  }

  /** Applies a changed check (a reload) to a target already watched: counters restart, probe now. */
  updatePolicy(target: T, policy: HealthCheckPolicy): void {
    const watch = this.watches.get(target);
    if (!watch || JSON.stringify(watch.policy) === JSON.stringify(policy)) return;
    const { healthy, healthySince } = watch;
    this.unwatch(target);
    this.watch(target, policy, healthy ? { since: healthySince } : undefined);
  }

  unwatch(target: T): void {
    const watch = this.watches.get(target);
    if (!watch) return;
    watch.stopped = true;
    watch.markProbed();
    if (watch.timer) clearTimeout(watch.timer);
    this.watches.delete(target);
  }

  /**
   * Takes a target out at once, without waiting for failed probes (its process crashed): it needs
   * healthyThreshold passing checks again to come back.
   */
  markDown(target: T, detail: string): void {
    const watch = this.watches.get(target);
    if (!watch) return;
    watch.successes = 0;
    if (!watch.healthy) return;
    watch.healthy = false;
    this.emit(target, false, { ok: false, detail });
  }

  /** Resolves once the target has been probed at least once (or is not watched). */
  firstProbe(target: T): Promise<void> {
    return this.watches.get(target)?.probed ?? Promise.resolve();
  }

  isWatching(target: T): boolean {
    return this.watches.has(target);
  }

  /** True once the healthy threshold was reached, until the unhealthy threshold is. */
  isHealthy(target: T): boolean {
    return this.watches.get(target)?.healthy ?? false;
  }

  /** When the target last became healthy (epoch ms), for slow start; 0 when it is not healthy. */
  healthySince(target: T): number {
    const watch = this.watches.get(target);
    return watch?.healthy ? watch.healthySince : 0;
  }

  lastResult(target: T): ProbeResult | null {
    return this.watches.get(target)?.last ?? null;
  }

  async close(): Promise<void> {
    for (const target of [...this.watches.keys()]) this.unwatch(target);
    await this.agent.close();
  }

  private async run(watch: Watch<T>): Promise<void> {
    const result = await probe(watch.target.address, watch.policy, this.agent);
    if (watch.stopped) return watch.markProbed();
    watch.last = result;
    this.apply(watch, result);
    watch.markProbed();
    watch.timer = setTimeout(() => void this.run(watch), watch.policy.interval);
    watch.timer.unref();
  }

  private apply(watch: Watch<T>, result: ProbeResult): void {
    const { policy } = watch;
    if (result.ok) {
      watch.successes++;
      watch.failures = 0;
      if (!watch.healthy && watch.successes >= policy.healthyThreshold) {
        watch.healthy = true;
        watch.healthySince = Date.now();
        this.emit(watch.target, true, result);
      }
    } else {
      watch.failures++;
      watch.successes = 0;
      if (watch.healthy && watch.failures >= policy.unhealthyThreshold) {
        watch.healthy = false;
        this.emit(watch.target, false, result);
      }
    }
  }

  private emit(target: T, healthy: boolean, result: ProbeResult): void {
    for (const listener of this.listeners) listener(target, healthy, result);
  }
}

/**
 * One probe of an address, answered by its timeout at the latest. undici acts on the abort signal only
 * once a connection attempt ends, which to a host whose link is down takes seconds (ARP gives up).
 */
export async function probe(address: string, policy: HealthCheckPolicy, agent?: Agent): Promise<ProbeResult> {
  if (policy.path === null) return tcpProbe(address, policy.timeout);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: 'timed out' }), policy.timeout);
  });
  try {
    return await Promise.race([httpProbe(address, policy, agent), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function httpProbe(address: string, policy: HealthCheckPolicy, agent?: Agent): Promise<ProbeResult> {
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
    // Before the code: an AbortSignal's TimeoutError is a DOMException whose code is the number 23.
    if ('name' in err && err.name === 'TimeoutError') return 'timed out';
    const code = 'code' in err ? String(err.code) : '';
    if (code) return code;
  }
  return err instanceof Error ? err.message : String(err);
}

// A switchyard cluster on one machine for tests: real etcd on loopback and one `switchyard up` per host
// as child processes, each with its own ports and state folder and the same services. Every process of a
// host (keeper, controller, proxies, app instances) carries the host's marker in its environment, so a
// test can kill a whole host at once, as a machine dying would, and teardown leaves nothing running.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { ClusterDaemonView } from '../../src/api/daemon-view.js';
import { freePort, startDaemon, type DaemonProcess, type TempDir } from './daemon.js';
import { MARKER_ENV, markedProcesses, NODE_APP, type DeploymentDetail, type DeploymentView } from './deploy-harness.js';
import { waitFor } from './wait.js';

export interface HostOptions {
  tmp: TempDir;
  etcd: string[];
  node: string;
  leaseTtl?: string;
  instances?: number;
  placement?: 'spread' | 'perHost';
}

export class ClusterHost {
  private readonly agent = new Agent({ connections: 4 });

  private constructor(
    readonly node: string,
    readonly proxyUrl: string,
    readonly adminUrl: string,
    readonly marker: string,
    readonly daemon: DaemonProcess,
  ) {}

  static async start({ tmp, etcd, node, leaseTtl = '2s', instances = 3, placement = 'spread' }: HostOptions): Promise<ClusterHost> {
    const proxyPort = await freePort();
    let adminPort = await freePort();
    while (adminPort === proxyPort) adminPort = await freePort();
    const config = [
      `proxy: { listen: 127.0.0.1:${proxyPort} }`,
      `admin: { listen: 127.0.0.1:${adminPort} }`,
      `state: ${join(tmp.dir, node)}`,
      `cluster: { etcd: [${etcd.join(', ')}], node: ${node}, address: 127.0.0.1, leaseTtl: ${leaseTtl} }`,
      'services:',
      '  web:',
      `    run: { command: node ${NODE_APP}, version: v1, env: { APP_VERSION: "{version}" } }`,
      `    instances: ${instances}`,
      `    placement: ${placement}`,
      '    health: { path: /healthz, interval: 200ms, timeout: 1s }',
      '    drain: { timeout: 5s }',
      // Short: an instance stopped with a request still in flight (a drain that did not wait) fails it.
      '    stop: { timeout: 500ms }',
      '',
    ].join('\n');
    const file = await tmp.write(`${node}.yaml`, config);
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    const marker = `${tmp.dir}:${node}`;
    const daemon = await startDaemon(file, { adminUrl, cwd: tmp.dir, env: { [MARKER_ENV]: marker }, timeout: 30_000 });
    return new ClusterHost(node, `http://127.0.0.1:${proxyPort}`, adminUrl, marker, daemon);
  }

  async api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await request(`${this.adminUrl}${path}`, {
      method,
      dispatcher: this.agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  async cluster(): Promise<ClusterDaemonView> {
    return (await this.api<ClusterDaemonView>('GET', '/api/v1/cluster')).body;
  }

  async deploy(body: Record<string, unknown>): Promise<DeploymentView> {
    const res = await this.api<DeploymentView>('POST', '/api/v1/services/web/deployments', body);
    if (res.status !== 202) throw new Error(`deploy ${JSON.stringify(body)} on ${this.node}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async deployment(id: number): Promise<DeploymentDetail | undefined> {
    const res = await this.api<DeploymentDetail>('GET', `/api/v1/deployments/${id}`);
    return res.status === 200 ? res.body : undefined;
  }

  /** Every process of this host: its switchyard and its app instances. */
  processes(): number[] {
    return markedProcesses(this.marker);
  }

  /**
   * The host stops answering without closing a connection, as a machine cut off the network or hung:
   * every process of it SIGSTOPped (`thaw` resumes them; `crash` kills them stopped or not). `appsToo:
   * false` stops only its switchyard, its apps (and the shells that run them) serving on.
   */
  freeze({ appsToo = true } = {}): void {
    this.signalAll('SIGSTOP', appsToo ? () => true : (pid) => !isApp(pid));
  }

  thaw(): void {
    this.signalAll('SIGCONT');
  }

  private signalAll(signal: NodeJS.Signals, which: (pid: number) => boolean = () => true): void {
    for (const pid of this.processes()) {
      if (!which(pid)) continue;
      try {
        process.kill(pid, signal);
      } catch {
        // Gone already.
      }
    }
  }

  /** The host dies at once, as a machine losing power: every process of it SIGKILLed. */
  async crash(): Promise<void> {
    for (const pid of this.processes()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await this.daemon.exited;
    await waitFor(() => this.processes().length === 0, { timeout: 10_000, message: `every process of ${this.node} to be gone` });
  }

  async close(): Promise<void> {
    await this.crash();
    await this.agent.close();
  }
}

function isApp(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(NODE_APP);
  } catch {
    return false;
  }
}

/** Polls `host` until its view of the cluster satisfies `ok`; returns that view. */
export async function untilView(host: ClusterHost, ok: (view: ClusterDaemonView) => boolean, message: string, timeout = 30_000): Promise<ClusterDaemonView> {
  let last: ClusterDaemonView | undefined;
  try {
    return await waitFor(
      async () => {
        last = await host.cluster();
        return ok(last) ? last : undefined;
      },
      { timeout, interval: 100, message },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${host.node} last saw ${JSON.stringify(last)}`);
  }
}

/** Live instances of `web` by host, as one host sees them. */
export function instancesByHost(view: ClusterDaemonView, healthyOnly = true): Record<string, ClusterDaemonView['hosts'][number]['instances']> {
  const out: Record<string, ClusterDaemonView['hosts'][number]['instances']> = {};
  for (const host of view.hosts) if (host.live) out[host.node] = host.instances.filter((i) => !healthyOnly || (i.healthy && i.state === 'ready'));
  return out;
}

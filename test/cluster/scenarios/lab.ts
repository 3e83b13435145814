// The test cluster of the scenarios: network namespaces as hosts (test/helpers/netns.ts), three of them
// each running an etcd member, a `switchyard up` in cluster mode and its share of the app's instances;
// h1 and h2 also run keepalived and hold a virtual IP between them (examples/keepalived), with the SYN
// hold rule (examples/keepalived/hold-syns.nft) so a client's connection attempt waits for the address to
// move instead of being refused. A fourth namespace is the client. The machine's own namespace is never
// touched: the admin APIs are reached with curl inside each host's namespace.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DaemonView } from '../../../src/api/daemon-view.js';
import { CLI } from '../../helpers/daemon.js';
import { MARKER_ENV, markedProcesses, type DeploymentDetail, type DeploymentView } from '../../helpers/deploy-harness.js';
import { createLab, type Lab } from '../../helpers/netns.js';
import { waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);
const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/cluster/${name}`, import.meta.url));
const example = (name: string) => fileURLToPath(new URL(`../../../examples/keepalived/${name}`, import.meta.url));

export const HOSTS = ['h1', 'h2', 'h3'] as const;
export type Host = (typeof HOSTS)[number];
/** The hosts that hold the virtual IP, highest priority first. */
export const VIP_HOSTS = ['h1', 'h2'] as const;
export const LEASE_TTL_MS = 3000;
export const PROXY_PORT = 8080;
const ADMIN = 'http://127.0.0.1:8081';
const TOKEN = 'scenario-admin-token-0123456789';

export class ClusterLab {
  readonly net: Lab;
  readonly vip: string;
  readonly ledger: string;
  readonly prefix = '/switchyard/';
  private readonly etcd = new Map<Host, ChildProcess>();
  private readonly others: ChildProcess[] = [];

  private constructor(readonly dir: string) {
    this.net = createLab([...HOSTS, 'client']);
    this.vip = `${this.net.subnet}.100`;
    this.ledger = join(dir, 'ledger');
    writeFileSync(this.ledger, '');
  }

  /** Namespaces, etcd, switchyard on h3 first (so it leads, away from the VIP), then h1 and h2, then keepalived. */
  static async start(dir: string): Promise<ClusterLab> {
    const lab = new ClusterLab(dir);
    try {
      for (const host of HOSTS) lab.startEtcd(host);
      await Promise.all(HOSTS.map((host) => lab.untilEtcdHealthy(host)));
      for (const host of VIP_HOSTS) await lab.holdSyns(host);
      lab.startSwitchyard('h3');
      await lab.untilServing('h3');
      await waitFor(async () => (await lab.cluster('h3')).leader === 'h3', { timeout: 30_000, interval: 200, message: 'h3 to lead' });
      for (const host of ['h1', 'h2'] as const) lab.startSwitchyard(host);
      for (const host of HOSTS) await lab.untilServing(host);
      await lab.untilAllLive();
      for (const [i, host] of VIP_HOSTS.entries()) lab.startKeepalived(host, 150 - i * 50);
      await waitFor(() => lab.vipHolder() === 'h1', { timeout: 20_000, interval: 100, message: 'the virtual IP on h1' });
      return lab;
    } catch (err) {
      await lab.stop();
      throw err;
    }
  }

  address(host: Host): string {
    return this.net.address[host]!;
  }

  etcdEndpoints(first?: Host): string[] {
    const order = first === undefined ? [...HOSTS] : [first, ...HOSTS.filter((h) => h !== first)];
    return order.map((h) => `http://${this.address(h)}:2379`);
  }

  /** Runs argv in a host's namespace; stderr (and stdout unless piped) to the log file in the lab's folder. */
  spawnIn(host: Host | 'client', argv: string[], options: { env?: Record<string, string>; log: string; stdout?: 'pipe' }): ChildProcess {
    const log = openSync(join(this.dir, options.log), 'a');
    const child = spawn('ip', ['netns', 'exec', this.net.ns[host]!, ...argv], {
      stdio: ['ignore', options.stdout ?? log, log],
      env: { ...process.env, NO_COLOR: '1', ...options.env },
    });
    this.others.push(child);
    return child;
  }

  // --- etcd -------------------------------------------------------------------------------------

  startEtcd(host: Host): void {
    const peer = (h: Host) => `http://${this.address(h)}:2380`;
    const client = `http://${this.address(host)}:2379`;
    const child = this.spawnIn(host, [
      'etcd', '--name', host, '--data-dir', join(this.dir, `etcd-${host}`),
      '--listen-client-urls', `${client},http://127.0.0.1:2379`, '--advertise-client-urls', client,
      '--listen-peer-urls', peer(host), '--initial-advertise-peer-urls', peer(host),
      '--initial-cluster', HOSTS.map((h) => `${h}=${peer(h)}`).join(','), '--initial-cluster-state', 'new',
      '--heartbeat-interval', '100', '--election-timeout', '1000', '--log-level', 'warn', '--logger', 'zap',
      // A member cut off keeps starting elections; without pre-vote its higher term forces a new one
      // when it is back, stalling every lease renewal (the default from etcd 3.5 on).
      '--pre-vote',
    ], { log: `etcd-${host}.log` });
    this.etcd.set(host, child);
  }

  async untilEtcdHealthy(host: Host): Promise<void> {
    await waitFor(async () => (await this.curl(host, 'GET', `http://${this.address(host)}:2379/health`)).body.includes('"health":"true"'), {
      timeout: 30_000, interval: 200, message: `etcd on ${host} to be healthy`,
    });
  }

  async killEtcd(host: Host): Promise<void> {
    await killChild(this.etcd.get(host));
  }

  /** The host whose etcd member leads Raft, as the members say (asking only those not `down`: etcdctl fails if one does not answer). */
  async etcdLeader(down?: Host): Promise<Host> {
    const ask = this.etcdEndpoints().filter((url) => down === undefined || !url.includes(`//${this.address(down)}:`));
    const { stdout } = await run('ip', ['netns', 'exec', this.net.ns.client!, 'etcdctl', '--endpoints', ask.join(','), 'endpoint', 'status', '-w', 'json'], { env: { ...process.env, ETCDCTL_API: '3' } });
    const members = JSON.parse(stdout) as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[];
    const leader = members.find((m) => m.Status.header.member_id === m.Status.leader);
    const host = HOSTS.find((h) => leader?.Endpoint.includes(`//${this.address(h)}:`));
    if (host === undefined) throw new Error(`no etcd leader in ${stdout}`);
    return host;
  }

  async etcdctl(args: string[]): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', this.net.ns.client!, 'etcdctl', '--endpoints', this.etcdEndpoints().join(','), ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
    return stdout;
  }

  // --- switchyard -------------------------------------------------------------------------------

  startSwitchyard(host: Host): void {
    const config = [
      `proxy: { listen: 0.0.0.0:${PROXY_PORT}, workers: 1 }`,
      // Followers forward commands to the leader's admin API: it must be reachable from the other hosts.
      `admin: { listen: 0.0.0.0:8081, token: ${TOKEN} }`,
      `state: ${join(this.dir, host)}`,
      `cluster: { etcd: [${this.etcdEndpoints(host).join(', ')}], node: ${host}, address: ${this.address(host)}, leaseTtl: ${LEASE_TTL_MS / 1000}s }`,
      'services:',
      '  web:',
      `    run: { command: node ${fixture('ledger-app.mjs')}, version: v1, env: { APP_VERSION: "{version}", LEDGER: ${this.ledger} } }`,
      '    instances: 3',
      '    health: { path: /healthz, interval: 200ms, timeout: 1s }',
      '    drain: { timeout: 5s }',
      '    stop: { timeout: 2s }',
      '    deploy:',
      '      canary: { steps: [ { weight: 34, pause: 3s }, { weight: 67, pause: 3s } ] }',
      '',
    ].join('\n');
    const file = join(this.dir, `${host}.yaml`);
    writeFileSync(file, config);
    this.spawnIn(host, [process.execPath, CLI, 'up', '-c', file], { env: { [MARKER_ENV]: this.marker(host) }, log: `switchyard-${host}.log` });
  }

  marker(host: Host): string {
    return `${this.dir}:${host}`;
  }

  async untilServing(host: Host): Promise<void> {
    await waitFor(async () => (await this.curl(host, 'GET', `${ADMIN}/healthz`)).status === 200, { timeout: 60_000, interval: 200, message: `switchyard on ${host} to serve` });
  }

  async untilAllLive(timeout = 60_000): Promise<void> {
    for (const host of HOSTS) {
      await waitFor(async () => {
        const view = await this.cluster(host).catch(() => undefined);
        return view !== undefined && view.hosts.filter((h) => h.live).length === HOSTS.length;
      }, { timeout, interval: 200, message: `${host} to see every host live` });
    }
  }

  /** switchyard's own processes on a host (keeper, controller, proxies), from its admin API. */
  async switchyardPids(host: Host): Promise<{ role: string; pid: number }[]> {
    const view = (await this.admin<DaemonView>(host, 'GET', '/api/v1/daemon')).body;
    return view.processes.map((p) => ({ role: p.role, pid: p.pid }));
  }

  async admin<T>(host: Host, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.curl(host, method, `${ADMIN}${path}`, body);
    if (res.status === 0) throw new Error(`${method} ${path} on ${host}: no answer`);
    return { status: res.status, body: (res.body === '' ? undefined : JSON.parse(res.body)) as T };
  }

  async cluster(host: Host): Promise<NonNullable<DaemonView['cluster']>> {
    const res = await this.admin<NonNullable<DaemonView['cluster']>>(host, 'GET', '/api/v1/cluster');
    if (res.status !== 200) throw new Error(`GET /api/v1/cluster on ${host}: ${res.status}`);
    return res.body;
  }

  /** Starts a deployment; while no controller leads (503, as during an election) it asks again, as a client would. */
  async deploy(host: Host, body: Record<string, unknown>): Promise<DeploymentView> {
    let res = await this.admin<DeploymentView>(host, 'POST', '/api/v1/services/web/deployments', body);
    const until = Date.now() + 30_000;
    while (res.status === 503 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      res = await this.admin<DeploymentView>(host, 'POST', '/api/v1/services/web/deployments', body);
    }
    if (res.status !== 202) throw new Error(`deploy ${JSON.stringify(body)} on ${host}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async deployment(host: Host, id: number): Promise<DeploymentDetail | undefined> {
    const res = await this.admin<DeploymentDetail>(host, 'GET', `/api/v1/deployments/${id}`).catch(() => undefined);
    return res?.status === 200 ? res.body : undefined;
  }

  async untilFinished(hosts: readonly Host[], id: number, timeout = 120_000): Promise<DeploymentDetail> {
    return waitFor(async () => {
      for (const host of hosts) {
        const d = await this.deployment(host, id);
        if (d !== undefined && ['succeeded', 'rolled-back', 'failed'].includes(d.state)) return d;
      }
      return undefined;
    }, { timeout, interval: 250, message: `deployment ${id} to finish` });
  }

  // --- keepalived, nftables, links ----------------------------------------------------------------

  startKeepalived(host: Host, priority: number): void {
    const conf = readFileSync(example('keepalived.conf'), 'utf8').replace('10.0.0.100/24', `${this.vip}/24`).replace('priority 150', `priority ${priority}`);
    const file = join(this.dir, `keepalived-${host}.conf`);
    writeFileSync(file, conf);
    const pid = (name: string) => join(this.dir, `${host}-${name}.pid`);
    this.spawnIn(host, ['keepalived', '--dont-fork', '--log-console', '--vrrp', '-f', file, '-p', pid('keepalived'), '-r', pid('vrrp')], { log: `keepalived-${host}.log` });
  }

  /** Which host has the virtual IP on its interface now (null: none). */
  vipHolder(): Host | null {
    for (const host of VIP_HOSTS) {
      const out = spawnSync('ip', ['-n', this.net.ns[host]!, '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }).stdout;
      if (out.includes(` ${this.vip}/`)) return host;
    }
    return null;
  }

  async holdSyns(host: Host): Promise<void> {
    const rules = readFileSync(example('hold-syns.nft'), 'utf8');
    await this.nft(host, rules);
  }

  async nft(host: Host, rules: string): Promise<void> {
    const file = join(this.dir, `nft-${host}-${Date.now()}.nft`);
    writeFileSync(file, rules);
    await run('ip', ['netns', 'exec', this.net.ns[host]!, 'nft', '-f', file]);
  }

  async nftDelete(host: Host, table: string): Promise<void> {
    await run('ip', ['netns', 'exec', this.net.ns[host]!, 'nft', 'delete', 'table', 'inet', table]);
  }

  async link(host: Host, state: 'up' | 'down'): Promise<void> {
    await run('ip', ['-n', this.net.ns[host]!, 'link', 'set', 'eth0', state]);
  }

  // --- teardown -----------------------------------------------------------------------------------

  async stop(): Promise<void> {
    for (const host of HOSTS) for (const pid of markedProcesses(this.marker(host))) signal(pid, 'SIGKILL');
    await Promise.all(this.others.map((child) => killChild(child)));
    for (const host of HOSTS) {
      await waitFor(() => markedProcesses(this.marker(host)).length === 0, { timeout: 10_000, message: `every process of ${host} to be gone` }).catch(() => {});
    }
    this.net.remove();
  }

  private async curl(host: Host | 'client', method: string, url: string, body?: unknown): Promise<{ status: number; body: string }> {
    const args = ['netns', 'exec', this.net.ns[host]!, 'curl', '-s', '-m', '5', '-X', method, '-H', `authorization: Bearer ${TOKEN}`, '-w', '\n%{http_code}', url];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    try {
      const { stdout } = await run('ip', args, { maxBuffer: 16 * 1024 * 1024 });
      const cut = stdout.lastIndexOf('\n');
      return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
    } catch {
      return { status: 0, body: '' };
    }
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}

async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}

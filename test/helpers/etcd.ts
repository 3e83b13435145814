// Real etcd members on loopback for tests (Debian etcd-server): free ports, data in a temp folder,
// stopped by PID (SIGKILL: a member given SIGTERM as leader waits seconds for its peers).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/runtime/ports.js';
import { waitFor } from './wait.js';

export const ETCD_INSTALLED = spawnSync('etcd', ['--version']).status === 0;
export const NO_ETCD = 'etcd is not installed (apt-get install etcd-server etcd-client; .ci/run installs them)';

export interface EtcdMember {
  name: string;
  /** http://127.0.0.1:PORT */
  endpoint: string;
  process: ChildProcess;
  /** SIGKILLs the member (a crash) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts the member again on the same data folder and ports. */
  restart(): Promise<void>;
}

export interface EtcdCluster {
  members: EtcdMember[];
  endpoints: string[];
  /** Kills every member and removes their data. */
  stop(): Promise<void>;
}

/** Starts `size` members forming one cluster; resolves once each answers its health check. */
export async function startEtcd(size = 1): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-etcd-'));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), peer: await freePort() })));
  const names = ports.map((_, i) => `m${i + 1}`);
  const initialCluster = names.map((name, i) => `${name}=http://127.0.0.1:${ports[i]!.peer}`).join(',');
  const members = names.map((name, i) => member(name, join(dir, name), ports[i]!, initialCluster));
  await Promise.all(members.map((m) => m.start()));
  await Promise.all(members.map((m) => healthy(m.view.endpoint)));
  return {
    members: members.map((m) => m.view),
    endpoints: members.map((m) => m.view.endpoint),
    async stop() {
      await Promise.all(members.map((m) => m.view.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function member(name: string, dataDir: string, ports: { client: number; peer: number }, initialCluster: string) {
  const endpoint = `http://127.0.0.1:${ports.client}`;
  const peer = `http://127.0.0.1:${ports.peer}`;
  const args = [
    '--name', name, '--data-dir', dataDir,
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
    // Short heartbeats: elections in about a second on a loaded machine, as the cluster test expects.
    '--heartbeat-interval', '100', '--election-timeout', '1000', '--pre-vote',
    '--log-level', 'error', '--logger', 'zap',
  ];
  const view: EtcdMember = {
    name,
    endpoint,
    process: undefined as unknown as ChildProcess,
    kill: async () => {
      const child = view.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    },
    restart: async () => {
      await start();
      await healthy(endpoint);
    },
  };
  const start = async () => {
    view.process = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    view.process.stderr?.resume();
  };
  return { view, start };
}

async function healthy(endpoint: string): Promise<void> {
  await waitFor(
    async () => {
      const res = await fetch(`${endpoint}/health`);
      const body = (await res.json()) as { health?: string };
      return body.health === 'true';
    },
    { timeout: 30_000, interval: 100, message: `etcd at ${endpoint} to be healthy` },
  );
}

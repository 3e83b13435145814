// Starting and stopping what the load is sent to: the backend itself ("direct"), switchyard, nginx and
// haproxy, each in the foreground on a loopback port, each proxy pinned to the proxy CPU.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { haproxyConfig, nginxConfig, switchyardConfig, type AccessLogMode } from './configs.js';
import { freePort, isInstalled, spawnPinned, stop, waitForHttp200, waitForLine, type Spawned } from './processes.js';

/** `switchyard-2w` is switchyard with `proxy.workers: 2` (both on the proxy CPU when pinned). */
export const TARGET_NAMES = ['direct', 'switchyard', 'switchyard-2w', 'nginx', 'haproxy'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export function isSwitchyard(name: TargetName): boolean {
  return name === 'switchyard' || name === 'switchyard-2w';
}

export interface Running {
  readonly name: TargetName;
  readonly url: string;
  /** The proxy process whose CPU time (with its descendants') is its cost; absent for direct. */
  readonly proc?: Spawned;
  /** Switchyard's admin API, where its /metrics are. */
  readonly adminUrl?: string;
}

export interface TargetContext {
  /** Temp dir for configs, logs and state. */
  dir: string;
  backendPort: number;
  proxyCpu: number | undefined;
  switchyardCli: string;
  /** When set, switchyard runs with `--cpu-prof` writing here. */
  profileDir: string | undefined;
  accessLog: AccessLogMode;
}

/** Why a target cannot run on this machine, or undefined when it can. */
export function unavailableReason(name: TargetName, switchyardCli: string): string | undefined {
  switch (name) {
    case 'direct':
      return undefined;
    case 'switchyard':
    case 'switchyard-2w':
      return existsSync(switchyardCli) ? undefined : `not built (${switchyardCli} missing; run npm run build)`;
    case 'nginx':
    case 'haproxy':
      return isInstalled(name) ? undefined : `not installed (apt-get install -y ${name})`;
  }
}

/** Starts the backend on `cpu` and returns it with the port it chose. */
export async function startBackend(cpu: number | undefined): Promise<{ proc: Spawned; port: number }> {
  const script = resolve(import.meta.dirname, 'backend.ts');
  const proc = spawnPinned('backend', cpu, process.execPath, ['--import', 'tsx', script]);
  const port = Number(await waitForLine(proc, /listening (\d+)/, 15_000));
  await waitForHttp200(proc, `http://127.0.0.1:${port}/`, 5000);
  return { proc, port };
}

/** Starts one target and waits until it answers 200 on `/`. */
export async function startTarget(name: TargetName, ctx: TargetContext): Promise<Running> {
  if (name === 'direct') return { name, url: `http://127.0.0.1:${ctx.backendPort}/` };
  const listen = await freePort();
  const url = `http://127.0.0.1:${listen}/`;
  const ports = { listen, backend: ctx.backendPort };
  let proc: Spawned;
  let startupMs = 10_000;
  let adminUrl: string | undefined;
  if (name === 'nginx') {
    const conf = join(ctx.dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig(ports, ctx.dir, ctx.accessLog));
    // -e: nginx opens its default error log before reading the config; keep that in the temp dir too.
    proc = spawnPinned(name, ctx.proxyCpu, 'nginx', ['-e', join(ctx.dir, 'nginx-error.log'), '-p', ctx.dir, '-c', conf]);
  } else if (name === 'haproxy') {
    const conf = join(ctx.dir, 'haproxy.cfg');
    writeFileSync(conf, haproxyConfig(ports));
    // -db: stay in the foreground as one process, so its PID is the one doing the work.
    proc = spawnPinned(name, ctx.proxyCpu, 'haproxy', ['-db', '-f', conf]);
  } else {
    const dir = join(ctx.dir, name);
    const conf = join(dir, 'switchyard.yaml');
    mkdirSync(join(dir, 'state'), { recursive: true });
    const admin = await freePort();
    adminUrl = `http://127.0.0.1:${admin}`;
    writeFileSync(conf, switchyardConfig({ ...ports, admin }, dir, name === 'switchyard-2w' ? 2 : 1, ctx.accessLog));
    const profile = ctx.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`];
    const env = { ...process.env, NODE_ENV: 'production' };
    proc = spawnPinned(name, ctx.proxyCpu, process.execPath, [...profile, ctx.switchyardCli, 'up', '-c', conf], env);
    // The first health check has to pass before the service is routable.
    startupMs = 20_000;
  }
  await waitForHttp200(proc, url, startupMs);
  return { name, url, proc, adminUrl };
}

/** Stops a target; switchyard gets time to drain and, under --profile, to write its .cpuprofile. */
export async function stopTarget(target: Running): Promise<void> {
  if (target.proc) await stop(target.proc, isSwitchyard(target.name) ? 20_000 : 5000);
}

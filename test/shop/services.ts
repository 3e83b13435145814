// PostgreSQL and Redis for the shop demo and its test: Debian's binaries, started in a temp folder on
// 127.0.0.1 with free ports, no system service, stopped by PID. PostgreSQL refuses to run as root, so
// as root both run as an unprivileged user (Debian's `postgres`, else `nobody`) that owns the folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { freePort } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const POSTGRES_ROOT = '/usr/lib/postgresql';

export interface Services {
  /** postgres://shop@127.0.0.1:PORT/shop */
  databaseUrl: string;
  /** redis://127.0.0.1:PORT */
  redisUrl: string;
  /** Creates another database on the same server; its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops both by PID and removes their folder. */
  stop(): Promise<void>;
}

/** Why the services cannot run here (a missing package), or null. */
export function missingServices(): string | null {
  if (postgresBin() === null) return `PostgreSQL is not installed (no ${POSTGRES_ROOT}/*/bin/postgres): apt-get install postgresql`;
  if (!existsSync('/usr/bin/redis-server')) return 'Redis is not installed (no /usr/bin/redis-server): apt-get install redis-server';
  return null;
}

/** Starts PostgreSQL (database `shop`, user `shop`, trust auth on loopback) and Redis. */
export async function startServices(): Promise<Services> {
  const problem = missingServices();
  if (problem !== null) throw new Error(problem);
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-shop-services-'));
  const user = serviceUser();
  const running: Daemon[] = [];
  const stop = async () => {
    await Promise.all(running.map((d) => d.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const sub of ['pg', 'redis']) mkdirSync(join(dir, sub));
    if (user !== null) for (const path of [dir, join(dir, 'pg'), join(dir, 'redis')]) chownSync(path, user.uid, user.gid);
    const postgres = await startPostgres(join(dir, 'pg'), user, running);
    const redis = await startRedis(join(dir, 'redis'), user, running);
    const createDatabase = async (name: string) => {
      await createDb(postgres.replace(/\/shop$/, '/postgres'), name);
      return postgres.replace(/\/shop$/, `/${name}`);
    };
    return { databaseUrl: postgres, redisUrl: redis, createDatabase, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface User {
  uid: number;
  gid: number;
}

/** As root: Debian's postgres user, else nobody. Otherwise null (run as the current user). */
function serviceUser(): User | null {
  if (process.getuid?.() !== 0) return null;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':'));
  for (const name of ['postgres', 'nobody']) {
    const entry = passwd.find((fields) => fields[0] === name);
    if (entry !== undefined) return { uid: Number(entry[2]), gid: Number(entry[3]) };
  }
  throw new Error('running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as');
}

function postgresBin(): string | null {
  if (!existsSync(POSTGRES_ROOT)) return null;
  const versions = readdirSync(POSTGRES_ROOT)
    .filter((v) => existsSync(join(POSTGRES_ROOT, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(POSTGRES_ROOT, versions[0], 'bin');
}

async function startPostgres(dir: string, user: User | null, running: Daemon[]): Promise<string> {
  const bin = postgresBin()!;
  const data = join(dir, 'data');
  await runToEnd(join(bin, 'initdb'), ['-D', data, '-U', 'shop', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], user);
  const port = await freePort();
  // Throwaway data: no fsync. No Unix socket: only loopback TCP.
  const settings = ['listen_addresses=127.0.0.1', `port=${port}`, 'unix_socket_directories=', 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];
  const postgres = startDaemon('postgres', join(bin, 'postgres'), ['-D', data, ...settings.flatMap((s) => ['-c', s])], user, 'SIGINT');
  running.push(postgres);
  const admin = `postgres://shop@127.0.0.1:${port}/postgres`;
  await waitFor(async () => postgres.assertRunning() && (await canQuery(admin)), { timeout: 60_000, interval: 100, message: `PostgreSQL on port ${port}` }).catch((err: Error) => {
    throw new Error(`${err.message}\n${postgres.output()}`);
  });
  await createDb(admin, 'shop');
  return `postgres://shop@127.0.0.1:${port}/shop`;
}

async function createDb(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`${name} is not a plain database name`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

async function startRedis(dir: string, user: User | null, running: Daemon[]): Promise<string> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const redis = startDaemon('redis-server', '/usr/bin/redis-server', args, user, 'SIGTERM');
  running.push(redis);
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(async () => redis.assertRunning() && (await canPing(url)), { timeout: 30_000, interval: 100, message: `Redis on port ${port}` }).catch((err: Error) => {
    throw new Error(`${err.message}\n${redis.output()}`);
  });
  return url;
}

async function canQuery(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function canPing(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 2000 } });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

interface Daemon {
  /** Throws (with its output) if the process has exited. */
  assertRunning(): true;
  output(): string;
  stop(): Promise<void>;
}

function spawnAs(file: string, args: string[], user: User | null): ChildProcess {
  return spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user === null ? {} : { uid: user.uid, gid: user.gid }), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } });
}

function collect(child: ChildProcess): () => string {
  let text = '';
  const add = (chunk: Buffer) => (text = (text + chunk.toString()).slice(-8000));
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => text;
}

/** A long-running server: stopped by its PID with `signal`, then SIGKILL after 10 s. */
function startDaemon(name: string, file: string, args: string[], user: User | null, signal: NodeJS.Signals): Daemon {
  const child = spawnAs(file, args, user);
  const output = collect(child);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('error', () => ((exited = true), resolve()));
    child.once('exit', () => ((exited = true), resolve()));
  });
  const pid = child.pid;
  return {
    assertRunning: () => {
      if (exited) throw new Error(`${name} exited:\n${output()}`);
      return true;
    },
    output: () => `--- ${name} output ---\n${output()}`,
    stop: async () => {
      if (exited || pid === undefined) return;
      process.kill(pid, signal);
      const killed = setTimeout(() => !exited && process.kill(pid, 'SIGKILL'), 10_000);
      await exit;
      clearTimeout(killed);
    },
  };
}

/** Runs a program to its end (initdb); throws with its output when it fails. */
async function runToEnd(file: string, args: string[], user: User | null): Promise<void> {
  const child = spawnAs(file, args, user);
  const output = collect(child);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`${file} exited with ${code}:\n${output()}`);
}

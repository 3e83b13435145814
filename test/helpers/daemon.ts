// End-to-end helpers: the built CLI (dist/cli/main.js) as real child processes — the daemon via `up`,
// one-shot commands via runCli — plus temp config directories and free ports. Children are ended by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { waitFor } from './wait.js';

/** The built CLI; `npm test` builds it before running the tests. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** A port nothing listens on right now: bound on 127.0.0.1:0, then released. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True when a TCP connection to the port is refused. */
export function refusesConnections(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

export interface TempDir {
  dir: string;
  /** Writes a file in the directory and returns its absolute path. */
  write(name: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export async function tempDir(prefix = 'switchyard-test-'): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    dir,
    write: async (name, text) => {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface StaticConfig {
  proxyPort: number;
  adminPort: number;
  /** host:port of each backend of the one service, `web`. */
  targets: string[];
  token?: string;
  /** State directory (absolute), so nothing is written beside the test files. */
  state: string;
  /** HTTP health check path; absent = a TCP check. */
  healthPath?: string;
}

/** A switchyard.yaml for one service, `web`, over static targets, with fast health checks. */
export function staticConfig({ proxyPort, adminPort, targets, token, state, healthPath }: StaticConfig): string {
  const path = healthPath === undefined ? '' : `path: ${healthPath}, `;
  return [
    'proxy:',
    `  listen: 127.0.0.1:${proxyPort}`,
    'admin:',
    `  listen: 127.0.0.1:${adminPort}`,
    ...(token === undefined ? [] : [`  token: ${token}`]),
    `state: ${state}`,
    'services:',
    '  web:',
    `    targets: [${targets.join(', ')}]`,
    `    health: { ${path}interval: 100ms, timeout: 1s }`,
    '    drain: { timeout: 10s }',
    '',
  ].join('\n');
}

/** Environment for children: no inherited switchyard settings, no colours. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env)) if (name.startsWith('SWITCHYARD_')) delete env[name];
  return { ...env, ...extra };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs `switchyard ARGS` to completion (killed by PID after `timeout`). */
export function runCli(
  args: string[],
  { cwd, env, timeout = 30_000 }: { cwd: string; env?: Record<string, string>; timeout?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`switchyard ${args.join(' ')} did not finish in ${timeout} ms\n${stderr}`));
    }, timeout);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface DaemonProcess {
  readonly pid: number;
  readonly adminUrl: string;
  /** Everything the daemon wrote so far (stdout: the access log; stderr: its own log). */
  stdout(): string;
  stderr(): string;
  /** Resolves once the process has exited. */
  readonly exited: Promise<Exit>;
  signal(signal: NodeJS.Signals): void;
  /** Waits until the daemon's log (stderr) contains `text`. */
  waitForLog(text: string | RegExp, timeout?: number): Promise<void>;
  /** Teardown: SIGKILL by PID if it still runs, then wait for the exit. */
  kill(): Promise<void>;
}

/** True when the admin API answers /healthz (which needs no token). */
async function adminIsUp(adminUrl: string): Promise<boolean> {
  try {
    // reset: no keep-alive connection is left open to hold up the daemon's graceful stop.
    const res = await request(`${adminUrl}/healthz`, { reset: true, headersTimeout: 2000, bodyTimeout: 2000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

/** Starts `switchyard up -c CONFIG` and resolves once its admin /healthz answers. */
export async function startDaemon(
  configFile: string,
  { adminUrl, cwd, env, timeout = 20_000 }: { adminUrl: string; cwd: string; env?: Record<string, string>; timeout?: number },
): Promise<DaemonProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'up', '-c', configFile], {
    cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve((exit = { code, signal })));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${CLI}`);

  const kill = async () => {
    if (exit === null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await exited;
  };

  try {
    await waitFor(async () => exit !== null || (await adminIsUp(adminUrl)), { timeout, interval: 50, message: 'the daemon to be up' });
  } catch (err) {
    await kill();
    throw new Error(`${(err as Error).message}\n--- daemon stderr ---\n${stderr}`);
  }
  if (exit !== null) {
    const { code, signal } = exit as Exit;
    throw new Error(`the daemon exited (code ${code}, signal ${signal}) before it was up\n--- daemon stderr ---\n${stderr}`);
  }

  return {
    pid,
    adminUrl,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    signal: (signal) => process.kill(pid, signal),
    waitForLog: async (text, wait = 10_000) => {
      try {
        await waitFor(() => (typeof text === 'string' ? stderr.includes(text) : text.test(stderr)), {
          timeout: wait,
          message: `${String(text)} in the daemon log`,
        });
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- daemon stderr ---\n${stderr}`);
      }
    },
    kill,
  };
}

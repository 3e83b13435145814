// Child processes of the bench: spawned pinned to a CPU, remembered by PID, and always ended by PID,
// whether the bench finishes, throws or is interrupted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { descendantsOf } from './cpu.js';

export interface Spawned {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the process wrote, kept so a failed start can say why. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<string>;
}

const live = new Set<Spawned>();
/** Set once shutdown begins, so a run finishing during Ctrl-C cannot start the next one. */
let closed = false;
const hasTaskset = spawnSync('which', ['taskset']).status === 0;

export function canPin(): boolean {
  return hasTaskset;
}

/**
 * Starts `command` pinned to `cpu` with `taskset -c` (which execs, so the PID is the program's own).
 * @example spawnPinned('nginx', 1, 'nginx', ['-c', conf])
 */
export function spawnPinned(
  name: string,
  cpu: number | undefined,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Spawned {
  if (closed) throw new Error(`${name}: not started, the bench is stopping`);
  const [file, argv] =
    cpu !== undefined && hasTaskset ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, [...args]];
  const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  let log = '';
  const keep = (chunk: Buffer): void => {
    // Bounded: a chatty child must not grow the harness's heap during a long run.
    log = (log + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `exit ${String(code)}`));
    child.once('error', (err) => resolve(`error ${err.message}`));
  });
  const spawned: Spawned = { name, pid: child.pid, child, output: () => log, exited };
  live.add(spawned);
  void exited.then(() => live.delete(spawned));
  return spawned;
}

/** Waits for a line on stdout matching `pattern`, within `timeoutMs`; returns the first capture group. */
export async function waitForLine(proc: Spawned, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(proc.output());
    if (match) return match[1] ?? match[0];
    if (proc.child.exitCode !== null) break;
    await sleep(20);
  }
  throw new Error(`${proc.name}: did not print ${String(pattern)} within ${timeoutMs} ms\n${proc.output()}`);
}

/** Polls `GET url` until it answers 200, or throws at the deadline with the process's output. */
export async function waitForHttp200(proc: Spawned, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name}: exited during start-up\n${proc.output()}`);
    }
    last = await probe(url);
    if (last === '200') return;
    await sleep(100);
  }
  throw new Error(`${proc.name}: ${url} did not answer 200 within ${timeoutMs} ms (last: ${last})\n${proc.output()}`);
}

function probe(url: string): Promise<string> {
  return new Promise((resolve) => {
    // A fresh connection per probe (agent: false) so no pooled socket outlives the start-up check.
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(String(res.statusCode)));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', (err) => resolve(err.message));
    req.end();
  });
}

/**
 * Ends one process and its descendants by PID: `signal` first, SIGKILL after `graceMs`.
 * A grace period matters for `--cpu-prof`, which node writes only on an orderly exit.
 */
export async function stop(proc: Spawned, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!live.has(proc)) return;
  const pids = [proc.pid, ...descendantsOf(proc.pid)];
  for (const pid of pids) signalPid(pid, signal);
  const gone = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!gone) signalPid(proc.pid, 'SIGKILL');
  for (const pid of pids.slice(1)) signalPid(pid, 'SIGKILL');
  await Promise.race([proc.exited, sleep(2000)]);
  live.delete(proc);
}

/** Ends every process still running, newest first (proxies before the backend they depend on). */
export async function stopAll(graceMs = 3000): Promise<void> {
  closed = true;
  for (const proc of [...live].reverse()) await stop(proc, graceMs);
}

/** Last resort for a synchronous exit path: SIGKILL by PID, no waiting. */
export function killAllNow(): void {
  for (const proc of live) {
    for (const pid of [...descendantsOf(proc.pid), proc.pid]) signalPid(pid, 'SIGKILL');
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone: nothing to end.
  }
}

/** A loopback port free right now (the OS picks it; there is a small window before the target binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = address !== null && typeof address !== 'string' ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** True when `command` is on PATH. */
export function isInstalled(command: string): boolean {
  return spawnSync('which', [command]).status === 0;
}

// Starts one instance as a local process: leader of its own process group, stdout and stderr written
// straight into its log file, so the app keeps running and logging even if the daemon dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { INSTANCE_ID_ENV } from './leftovers.js';

export interface InstanceProcessOptions {
  /** A string runs through `/bin/sh -c` (so `$PORT` expands); an array runs directly, without a shell. */
  command: string | readonly string[];
  cwd: string;
  /** Set over the daemon's own environment, which is passed on without its SWITCHYARD_TOKEN* variables. */
  env: Record<string, string>;
  /** Opened for appending (created 0600, its directory 0700); receives both stdout and stderr. */
  logFile: string;
  /** Sets SWITCHYARD_INSTANCE_ID, by which a restarted daemon recognises the process (see leftovers.ts). */
  instanceId?: string;
}

export type SpawnErrorCode = 'SY_ERR_SPAWN_FAILED';

/**
 * @example
 * cannot start "node server.js" in /srv/releases/v2: the directory does not exist
 */
export class SpawnError extends Error {
  override readonly name = 'SpawnError';
  readonly code: SpawnErrorCode = 'SY_ERR_SPAWN_FAILED';

  constructor(
    readonly command: string,
    readonly cwd: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot start ${command} in ${cwd}: ${reason}`, options);
  }
}

// Anything with this prefix is the daemon's admin credential (or about it); apps never inherit it.
const TOKEN_PREFIX = 'SWITCHYARD_TOKEN';

/**
 * The environment a child gets: the daemon's own minus SWITCHYARD_TOKEN*, with `overrides` on top.
 * An override is the operator's explicit choice and is passed as given.
 *
 * @example spawn('/bin/sh', ['-c', cmd], { env: childEnv({ PORT: '3001' }) })
 */
export function childEnv(overrides: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith(TOKEN_PREFIX)) env[key] = value;
  }
  return Object.assign(env, overrides);
}

/**
 * Spawns the instance and returns at once. A failure to start (missing cwd, missing program) arrives as
 * the child's 'error' event, so attach a listener before yielding; `startProcess` does that for you.
 * Throws if the log file cannot be opened.
 */
export function spawnInstanceProcess(opts: InstanceProcessOptions): ChildProcess {
  const [file, args] = argv(opts.command);
  const env = opts.instanceId === undefined ? childEnv(opts.env) : childEnv({ ...opts.env, [INSTANCE_ID_ENV]: opts.instanceId });
  const fd = openLogFile(opts.logFile);
  try {
    // detached: the child calls setsid(), so it leads a new process group that stopProcessGroup can signal
    // as a whole. Not unref'd: the daemon wants its 'exit'.
    return spawn(file, args, { cwd: opts.cwd, env, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    // The child has its own copy of the descriptor once spawn() returns (libuv waits for exec).
    closeSync(fd);
  }
}

/**
 * Starts the instance and settles once the OS has started it: resolves on 'spawn', rejects with a
 * SpawnError naming the command and cwd.
 *
 * @example
 * const child = await startProcess({ command: 'node server.js', cwd, env: { PORT: '3001' }, logFile });
 * const exited = once(child, 'exit');
 */
export function startProcess(opts: InstanceProcessOptions): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawnInstanceProcess(opts);
    } catch (err) {
      reject(spawnError(opts.command, opts.cwd, err));
      return;
    }
    const onSpawn = (): void => {
      child.off('error', onError);
      resolve(child);
    };
    const onError = (err: Error): void => {
      child.off('spawn', onSpawn);
      reject(spawnError(opts.command, opts.cwd, err));
    };
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}

function argv(command: string | readonly string[]): [string, string[]] {
  if (typeof command === 'string') return ['/bin/sh', ['-c', command]];
  const [file, ...args] = command;
  if (file === undefined || file === '') throw new TypeError('command: an empty argument list has no program to run');
  return [file, args];
}

function openLogFile(path: string): number {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // O_APPEND matters: after copy-then-truncate rotation every write lands at the new end, not at the old offset.
    return openSync(path, 'a', 0o600);
  } catch (err) {
    // No errno code on the wrapper, so reasonOf() does not mistake it for a problem with cwd or the program.
    throw new Error(`cannot open log file ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The SpawnError for a failed spawn() of `command` in `cwd`, with the cause a person can act on. */
export function spawnError(command: string | readonly string[], cwd: string, err: unknown): SpawnError {
  const shown = JSON.stringify(typeof command === 'string' ? command : command.join(' '));
  return new SpawnError(shown, cwd, reasonOf(command, cwd, err), { cause: err });
}

// Node reports a missing cwd as "spawn /bin/sh ENOENT", which blames the wrong thing; find the real cause.
function reasonOf(command: string | readonly string[], cwd: string, err: unknown): string {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    try {
      if (!statSync(cwd).isDirectory()) return 'it is not a directory';
    } catch {
      return 'the directory does not exist';
    }
    if (typeof command !== 'string') return `program not found: ${String(command[0])}`;
  }
  if (code === 'EACCES' && typeof command !== 'string') return `permission denied: ${String(command[0])}`;
  return err instanceof Error ? err.message : String(err);
}

// Starting switchyard's own child processes (controller, proxy workers): the same Node.js and flags, an
// IPC channel at descriptor 3, and the sockets they serve from descriptor 4 on.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const CONTROLLER_ENTRY = fileURLToPath(new URL('../controller-main.js', import.meta.url));
export const WORKER_ENTRY = fileURLToPath(new URL('../worker-main.js', import.meta.url));

/** Where the n-th passed descriptor lands in the child. */
export const childFd = (n: number): number => 4 + n;

/**
 * `log`: a stream for the child's log lines (stderr), e.g. human lines for a terminal; without it the
 * child writes to the keeper's stderr directly.
 */
export function spawnChild(entry: string, fds: readonly number[], env: NodeJS.ProcessEnv = process.env, log?: () => Writable): ChildProcess {
  const child = spawn(process.execPath, [...process.execArgv, entry], {
    stdio: ['ignore', 'inherit', log ? 'pipe' : 'inherit', 'ipc', ...fds],
    env,
  });
  if (log && child.stderr) child.stderr.pipe(log(), { end: false });
  // A send to a child that just died fails here; its exit is what the keeper acts on.
  child.on('error', () => {});
  return child;
}

/** The environment for a restarted child: a fault injected for a crash test fires in the first one only. */
export function restartEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SWITCHYARD_FAULT_KILL_AT;
  return env;
}

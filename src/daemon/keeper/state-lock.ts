// One daemon per state folder (invariant 12): the keeper holds a lock named after the folder's real path
// from before it touches anything until its last generation exits. The lock is an abstract unix socket
// name, so a killed daemon never leaves a stale lock behind, and an upgrade hands it down like a listener.
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { storeErrorFromIo } from '../../store/errors.js';
import { StartError } from '../start-error.js';
import { bindAbstract, type BoundSocket } from './socket-handles.js';

/**
 * The lock's name for a state folder: from its real path, found without creating anything (a daemon
 * that cannot start writes no state), so two spellings of one folder share one lock.
 */
export function lockName(stateDir: string): string {
  let real: string;
  try {
    real = canonicalPath(resolve(stateDir));
  } catch (err) {
    throw new StartError(storeErrorFromIo(stateDir, err)?.message ?? `cannot use the state folder ${stateDir}: ${String(err)}`);
  }
  return `switchyard-state-${createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
}

/** The real path of the nearest part that exists, with the rest of the path after it. */
function canonicalPath(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const parent = dirname(path);
  return parent === path ? path : join(canonicalPath(parent), basename(path));
}

/** Takes the state folder's lock, or fails (exit 2) naming the folder. */
export function lockStateDir(stateDir: string): BoundSocket {
  const lock = bindAbstract(lockName(stateDir));
  if (lock === null) {
    throw new StartError(`another switchyard daemon runs on the state folder ${stateDir}; nothing was changed. Stop it first, or run \`switchyard upgrade\` to replace it`, { exitCode: 2 });
  }
  return lock;
}

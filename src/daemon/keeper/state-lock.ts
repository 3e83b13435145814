// One daemon per state folder (invariant 12): the keeper holds a lock named after the folder's real path
// from before it touches anything until its last generation exits. The lock is an abstract unix socket
// name, so a killed daemon never leaves a stale lock behind, and an upgrade hands it down like a listener.
import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { storeErrorFromIo } from '../../store/errors.js';
import { StartError } from '../start-error.js';
import { bindAbstract, type BoundSocket } from './socket-handles.js';

/** The lock's name for a state folder (created if missing, so its real path is known). */
export function lockName(stateDir: string): string {
  let real: string;
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    real = realpathSync(stateDir);
  } catch (err) {
    throw new StartError(storeErrorFromIo(stateDir, err)?.message ?? `cannot use the state folder ${stateDir}: ${String(err)}`);
  }
  return `switchyard-state-${createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
}

/** Takes the state folder's lock, or fails (exit 2) naming the folder. */
export function lockStateDir(stateDir: string): BoundSocket {
  const lock = bindAbstract(lockName(stateDir));
  if (lock === null) {
    throw new StartError(`another switchyard daemon runs on the state folder ${stateDir}; nothing was changed. Stop it first, or run \`switchyard upgrade\` to replace it`, { exitCode: 2 });
  }
  return lock;
}

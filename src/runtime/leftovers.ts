// Recognising our own instances among live processes, so a restarted daemon can stop what the previous one
// left running, and never a stranger that was handed a recycled PID.
import { readFileSync } from 'node:fs';

/** Every instance is started with this variable set to its instance id. */
export const INSTANCE_ID_ENV = 'SWITCHYARD_INSTANCE_ID';

/**
 * Whether `pid` is a live process started as instance `instanceId`: its environment (as it was at exec)
 * holds exactly `SWITCHYARD_INSTANCE_ID=<instanceId>`. False when the process is gone, a zombie (empty
 * environment), or not ours to read.
 *
 * @example if (isOurInstanceProcess(row.pid, row.instanceId)) await stopProcessGroup(row.pid, 'SIGTERM', 10_000);
 */
export function isOurInstanceProcess(pid: number, instanceId: string): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  let environ: string;
  try {
    environ = readFileSync(`/proc/${String(pid)}/environ`, 'utf8');
  } catch {
    return false;
  }
  // A NUL never belongs to a UTF-8 sequence, so a stranger's invalid bytes cannot spill into our entry.
  return environ.split('\0').includes(`${INSTANCE_ID_ENV}=${instanceId}`);
}

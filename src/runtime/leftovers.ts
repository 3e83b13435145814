// Recognising our own instances among live processes, so a restarted daemon can stop what the previous one
// left running, and never a stranger that was handed a recycled PID.
import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * Live processes started as any of `instanceIds`, found by scanning /proc: for instances whose PID
 * was never recorded (the daemon died between spawning and writing it down).
 */
export function findInstanceProcesses(instanceIds: ReadonlySet<string>): Map<string, number> {
  const found = new Map<string, number>();
  if (instanceIds.size === 0) return found;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
    } catch {
      continue;
    }
    for (const variable of environ.split('\0')) {
      if (!variable.startsWith(`${INSTANCE_ID_ENV}=`)) continue;
      const id = variable.slice(INSTANCE_ID_ENV.length + 1);
      // The group leader has the lowest PID of the processes started as this instance.
      if (instanceIds.has(id) && (found.get(id) ?? Infinity) > Number(entry)) found.set(id, Number(entry));
    }
  }
  return found;
}

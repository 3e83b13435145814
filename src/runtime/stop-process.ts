// Stopping an instance: signal its whole process group, wait for the leader, SIGKILL only once the stop
// timeout has passed (invariant 2), and leave no member of the group behind.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export type StopOutcome = 'exited' | 'killed' | 'already-gone';

export interface StopResult {
  outcome: StopOutcome;
  /** From the first signal until the leader was seen gone. */
  afterMs: number;
}

const POLL_MS = 50;
/** How long SIGKILL may take to land before we call the process stuck (uninterruptible sleep, say). */
const KILL_WAIT_MS = 5_000;
/** How long killed stragglers may take to die; they are not our children, so we can only poll. */
const STRAGGLER_WAIT_MS = 2_000;

/**
 * Sends `signal` to the process group led by `pid`, waits up to `timeoutMs` for the leader to exit, then
 * SIGKILLs the group. Once the leader is gone, any member still alive (a shell's background job that
 * ignored the signal) is SIGKILLed too.
 *
 * Pass `exited` when you hold the ChildProcess (e.g. `once(child, 'exit')`, created before the child can
 * exit): it is exact and immune to PID reuse. Without it the PID is polled every 50 ms.
 * Throws if the leader survives SIGKILL for 5 s, or if the group is not ours to signal (EPERM).
 *
 * @example const { outcome } = await stopProcessGroup(child.pid, 'SIGTERM', 10_000, exited); // 'exited'
 */
export async function stopProcessGroup(
  pid: number,
  signal: NodeJS.Signals,
  timeoutMs: number,
  exited?: Promise<unknown>,
): Promise<StopResult> {
  checkPid(pid);
  const start = performance.now();
  const elapsed = (): number => Math.round(performance.now() - start);

  // A PID that leads no group (a caller's mistake, or a process that left its group) still gets the signal.
  let target = -pid;
  if (!sendSignal(target, signal)) {
    target = pid;
    if (!isAlive(pid) || !sendSignal(pid, signal)) return { outcome: 'already-gone', afterMs: 0 };
  }

  let outcome: StopOutcome = 'exited';
  if (!(await waitForExit(pid, exited, timeoutMs))) {
    outcome = 'killed';
    sendSignal(target, 'SIGKILL');
    if (!(await waitForExit(pid, exited, KILL_WAIT_MS))) {
      throw new Error(`process ${String(pid)} is still alive ${String(KILL_WAIT_MS)} ms after SIGKILL`);
    }
  }
  const afterMs = elapsed();
  if (target < 0) await killProcessGroup(pid);
  return { outcome, afterMs };
}

/**
 * Whether `pid` is a running process. A zombie counts as gone: it has exited, and where nobody reaps
 * orphans (PID 1 in many containers) it would otherwise look alive forever.
 */
export function isAlive(pid: number): boolean {
  checkPid(pid);
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but belongs to someone else
  }
  const state = readStat(pid)?.state;
  return state !== 'Z' && state !== 'X';
}

/** Sends `signal` to a process (pid > 0) or a group (pid < 0). False when there is no such target. */
export function sendSignal(target: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

// kill(0) and kill(-1) reach our own group and every process we may signal: never let a bad PID get there.
function checkPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new RangeError(`not a process id we may signal: ${String(pid)}`);
}

/** True if the leader was gone within `ms`. */
async function waitForExit(pid: number, exited: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  if (exited === undefined) return pollUntilGone(pid, deadline);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, ms, false);
  });
  try {
    // A rejected `exited` says nothing about the process; fall back to polling it.
    return await Promise.race([exited.then(() => true, () => pollUntilGone(pid, deadline)), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

async function pollUntilGone(pid: number, deadline: number): Promise<boolean> {
  while (isAlive(pid)) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await delay(Math.min(POLL_MS, left));
  }
  return true;
}

/**
 * SIGKILLs every member of group `pgid` and waits (at most 2 s) until none is running. For what is left
 * once a group's leader has exited: background jobs that ignored the polite signal, or never got one.
 */
export async function killProcessGroup(pgid: number): Promise<void> {
  checkPid(pgid);
  if (!sendSignal(-pgid, 'SIGKILL')) return;
  const deadline = performance.now() + STRAGGLER_WAIT_MS;
  while (groupHasLiveMembers(pgid) && performance.now() < deadline) await delay(POLL_MS);
}

function groupHasLiveMembers(pgid: number): boolean {
  if (!sendSignal(-pgid, 0)) return false;
  // kill() counts zombies too, so look for a member that is actually running.
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return true;
  }
  return names.some((name) => {
    if (!/^\d+$/.test(name)) return false;
    const stat = readStat(Number(name));
    return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X';
  });
}

/** State letter and process group from /proc/<pid>/stat; undefined where there is no /proc or no process. */
function readStat(pid: number): { state: string; pgrp: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses; the fields after its last ')' are fixed.
  const [state, , pgrp] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return state === undefined || pgrp === undefined ? undefined : { state, pgrp: Number(pgrp) };
}

// CPU time of a process (and its descendants) from /proc/<pid>/stat, so each proxy's cost per request
// can be reported independently of how fast the load generator happened to be.
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

interface StatFields {
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

/** Clock ticks per second for utime/stime (`getconf CLK_TCK`, 100 on nearly every Linux). */
export const CLOCK_TICKS: number = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number.parseInt(out.stdout ?? '', 10);
  return Number.isFinite(value) && value > 0 ? value : 100;
})();

/**
 * Parses one /proc/<pid>/stat line. The command name (field 2) may hold spaces and parentheses,
 * so fields are counted from the last ')'.
 * @example parseStat('42 (node) S 1 ... ') // { ppid: 1, ticks: utime + stime }
 */
export function parseStat(line: string): StatFields | undefined {
  const rest = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime field 14, stime field 15.
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (![ppid, utime, stime].every(Number.isFinite)) return undefined;
  return { ppid, ticks: utime + stime };
}

function readStat(pid: number): StatFields | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** PIDs of every live descendant of `pid` (children, grandchildren, ...). */
export function descendantsOf(pid: number): number[] {
  const parentOf = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) parentOf.set(Number(entry), stat.ppid);
  }
  const found: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop();
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(child);
        frontier.push(child);
      }
    }
  }
  return found;
}

/**
 * CPU seconds used so far by `pid` and its live descendants: a single process for nginx
 * (master_process off) and haproxy (-db), but a proxy that forks helpers is still counted whole.
 * All threads of a process are included in its own stat line.
 */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...descendantsOf(pid)]) ticks += readStat(p)?.ticks ?? 0;
  return ticks / CLOCK_TICKS;
}

/** What a process of a proxy's tree does: switchyard's keeper, controller or proxy workers, or a proxy's only process. */
export type Role = 'main' | 'controller' | 'worker';

/**
 * Tells switchyard's processes apart by their command line: workers and the controller run their own entry
 * files (and set their titles), everything else (the keeper, nginx, haproxy) is the main process.
 */
export function roleOf(cmdline: string): Role {
  if (/worker-main|switchyard proxy/.test(cmdline)) return 'worker';
  if (/controller-main|switchyard controller/.test(cmdline)) return 'controller';
  return 'main';
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** CPU seconds so far of `pid` and each live descendant, summed by role. */
export function cpuByRole(pid: number): Record<Role, number> {
  const out: Record<Role, number> = { main: 0, controller: 0, worker: 0 };
  for (const p of [pid, ...descendantsOf(pid)]) {
    const ticks = readStat(p)?.ticks;
    if (ticks !== undefined) out[p === pid ? 'main' : roleOf(readCmdline(p))] += ticks / CLOCK_TICKS;
  }
  return out;
}

/** Resident memory in bytes of `pid` and each live descendant, by role (VmRSS from /proc/<pid>/status). */
export function rssByRole(pid: number): Record<Role, number> {
  const out: Record<Role, number> = { main: 0, controller: 0, worker: 0 };
  for (const p of [pid, ...descendantsOf(pid)]) {
    try {
      const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      out[p === pid ? 'main' : roleOf(readCmdline(p))] += kb * 1024;
    } catch {
      // Gone meanwhile: it holds no memory.
    }
  }
  return out;
}

/** Busy (non-idle, non-iowait) ticks of one CPU since boot, from /proc/stat's `cpuN` line. */
export function cpuBusyTicks(cpu: number): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${cpu} `));
    if (line === undefined) return undefined;
    // user nice system idle iowait irq softirq steal ...: idle and iowait are the not-busy ones.
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return total - (fields[3] ?? 0) - (fields[4] ?? 0);
  } catch {
    return undefined;
  }
}

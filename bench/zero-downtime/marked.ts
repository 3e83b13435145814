// The processes of one bench run, found in /proc by a marker in their environment: switchyard's own
// (keeper, controller, proxy workers of every generation, by the title each sets) and the app instances
// (SWITCHYARD_INSTANCE_ID). After an upgrade the daemon is no child of the bench, so this is how it is
// observed and, at the end, stopped.
import { readdirSync, readFileSync } from 'node:fs';

export const MARKER_ENV = 'SWITCHYARD_BENCH_RUN';

export interface SwitchyardProcess {
  pid: number;
  /** e.g. "switchyard keeper (generation 3)"; a process that has not set its title yet shows its command. */
  title: string;
  /** keeper, controller or proxy; null before the process set its title. */
  role: string | null;
  generation: number | null;
}

export interface AppProcess {
  pid: number;
  instance: string;
  /** APP_VERSION, the release it runs. */
  version: string | null;
}

export interface Marked {
  /** Every marked process that is not an app instance: switchyard's own. */
  switchyard: SwitchyardProcess[];
  apps: AppProcess[];
  /** Every live marked process, whatever it is. */
  all: number[];
}

type Seen = { checks: number } & ({ marked: false } | { marked: true; app: AppProcess | null; title: SwitchyardProcess | null });

/**
 * Finds the marked processes. Scanning is on the load generator's event loop, so it stays cheap: a
 * process's environment changes only when it execs, so each PID's is read on the first two scans that
 * list it (a child caught between fork and exec still shows its parent's) and then trusted until a
 * listing misses the PID (so a reused PID is read afresh); only marked processes are looked at again.
 */
export class MarkedProcesses {
  private readonly seen = new Map<number, Seen>();

  /** `marker` is `NAME=value` as it appears in the environment. */
  constructor(readonly marker: string) {}

  scan(): Marked {
    const found: Marked = { switchyard: [], apps: [], all: [] };
    const listed = new Set(pidEntries());
    for (const pid of this.seen.keys()) if (!listed.has(pid)) this.seen.delete(pid);
    for (const pid of listed) {
      if (pid === process.pid) continue;
      let seen = this.seen.get(pid);
      if (seen === undefined || seen.checks < 2) {
        const checked = this.identify(pid, (seen?.checks ?? 0) + 1);
        if (checked === null) continue;
        this.seen.set(pid, (seen = checked));
      }
      if (!seen.marked || isZombie(pid)) continue;
      found.all.push(pid);
      if (seen.app !== null) {
        found.apps.push(seen.app);
        continue;
      }
      // The title is set a moment after start: read it until it is there.
      seen.title ??= titleOf(pid);
      found.switchyard.push(seen.title ?? { pid, title: '(starting)', role: null, generation: null });
    }
    return found;
  }

  /** SIGKILLs every live marked process by PID, and each app's process group (its children). */
  killAll(): void {
    const { all, apps } = this.scan();
    for (const app of apps) signal(-app.pid, 'SIGKILL');
    for (const pid of all) signal(pid, 'SIGKILL');
  }

  private identify(pid: number, checks: number): Seen | null {
    const environ = read(`/proc/${pid}/environ`)?.split('\0');
    // Unreadable: gone, or not ours to read; try again next time.
    if (environ === undefined) return null;
    if (!environ.includes(this.marker)) return { checks, marked: false };
    const instance = valueOf(environ, 'SWITCHYARD_INSTANCE_ID');
    return { checks, marked: true, app: instance === null ? null : { pid, instance, version: valueOf(environ, 'APP_VERSION') }, title: null };
  }
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    // Gone already (or, for a group, not a group leader).
    return false;
  }
}

function titleOf(pid: number): SwitchyardProcess | null {
  const title = (read(`/proc/${pid}/cmdline`) ?? '').split('\0')[0] ?? '';
  const match = /^switchyard (\S+)(?: \d+)? \(generation (\d+)\)/.exec(title);
  return match ? { pid, title, role: match[1]!, generation: Number(match[2]) } : null;
}

function pidEntries(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function valueOf(environ: readonly string[], name: string): string | null {
  const entry = environ.find((e) => e.startsWith(`${name}=`));
  return entry === undefined ? null : entry.slice(name.length + 1);
}

function isZombie(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  return stat === undefined || stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
}

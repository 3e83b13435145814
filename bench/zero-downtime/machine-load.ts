// How busy the machine was with work that is not this bench: every second, the CPU time all CPUs spent
// busy (/proc/stat) minus what the bench's own processes used. On a shared machine this tells a stall
// of the system under test from a neighbour's test suite eating the CPUs.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { CLOCK_TICKS, descendantsOf, parseStat } from '../proxy/cpu.js';

export class MachineLoad {
  /** Per second since `startedAt`: the share (0-1) of all CPUs used by other processes. */
  readonly foreign: number[] = [];
  private readonly timer: NodeJS.Timeout;
  private lastBusy = machineBusyTicks();
  private lastTicks = new Map<number, number>();
  private readonly capacity = cpus().length * CLOCK_TICKS;

  /** `ours` names the bench's root processes besides this one (e.g. PM2's daemon, which is detached). */
  constructor(
    private readonly startedAt: number,
    private readonly ours: () => number[] = () => [],
  ) {
    this.lastTicks = this.ownTicks();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Mean share of the machine used by others over the given seconds (null when none were sampled). */
  meanOver(seconds: readonly number[]): number | null {
    const values = seconds.map((s) => this.foreign[s]).filter((v): v is number => v !== undefined);
    return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
  }

  private sample(): void {
    const busy = machineBusyTicks();
    const ticks = this.ownTicks();
    let ours = 0;
    // A process that exited since the last sample takes its last second with it: a small overestimate.
    for (const [pid, now] of ticks) ours += now - (this.lastTicks.get(pid) ?? 0);
    const second = Math.floor((Date.now() - this.startedAt) / 1000) - 1;
    if (second >= 0) this.foreign[second] = Math.min(1, Math.max(0, (busy - this.lastBusy - ours) / this.capacity));
    this.lastBusy = busy;
    this.lastTicks = ticks;
  }

  /** utime + stime of this process, its descendants and `ours` with theirs, by PID. */
  private ownTicks(): Map<number, number> {
    const roots = [process.pid, ...this.ours()];
    const pids = new Set(roots.flatMap((pid) => [pid, ...descendantsOf(pid)]));
    const ticks = new Map<number, number>();
    for (const pid of pids) {
      try {
        const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        if (stat) ticks.set(pid, stat.ticks);
      } catch {
        // Gone between the listing and the read.
      }
    }
    return ticks;
  }
}

/** Busy ticks of all CPUs together since boot (the `cpu` line of /proc/stat, less idle and iowait). */
function machineBusyTicks(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return total - (fields[3] ?? 0) - (fields[4] ?? 0);
  } catch {
    return 0;
  }
}

// Turns the raw runs into the summary: medians per target, ratios to direct and nginx, the
// half-capacity latency line, the printed table and the JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from './load.js';
import type { LoopWindow } from './switchyard-metrics.js';
import type { TargetName } from './targets.js';

export interface Run extends LoadResult {
  round: number;
  target: TargetName;
  /** Requests/s the load generator paced at; null for the as-fast-as-possible runs. */
  offeredRate: number | null;
  /** Proxy CPU (user + system, whole process tree) over the load window; null for direct. */
  cpuSeconds: number | null;
  cpuUsPerRequest: number | null;
  /** CPU seconds per second of the window (1 = one core busy); null for direct. */
  cpuUtilisation: number | null;
  /** Switchyard only: the CPU of its proxy workers (the rest is the keeper and the controller). */
  workerCpuSeconds: number | null;
  /** Switchyard only: event-loop delay and GC pauses of its workers over the window, from its /metrics. */
  loop: LoopWindow | null;
  /** Share of the proxy core's time (0..1) used by anything but the proxy during the window; null unpinned. */
  proxyCoreForeignShare: number | null;
}

export interface TargetSummary {
  target: TargetName;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number | null;
  cpuUtilisation: number | null;
  /**
   * False when an as-fast-as-possible run left the proxy under SATURATED of a core: the load generator or
   * the backend was the limit, so its rps is a floor, not its capacity. Null for direct and paced runs.
   */
  saturated: boolean | null;
  rpsVsDirect: number | null;
  rpsVsNginx: number | null;
  cpuVsNginx: number | null;
  /** Median over rounds: the proxy workers' share of switchyard's CPU. */
  workerShare: number | null;
  /** Medians over rounds of switchyard's loop figures. */
  loop: LoopWindow | null;
}

/** A proxy using less than this share of its core at full load was not the bottleneck. */
export const SATURATED = 0.9;

/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid] ?? Number.NaN;
  return ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

function medianOrNull(values: readonly (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return present.length > 0 ? median(present) : null;
}

function medianLoop(runs: readonly Run[]): LoopWindow | null {
  const loops = runs.map((r) => r.loop).filter((l): l is LoopWindow => l !== null);
  if (loops.length === 0) return null;
  const of = (pick: (l: LoopWindow) => number): number => median(loops.map(pick));
  return {
    ticks: of((l) => l.ticks),
    delayP99Ms: of((l) => l.delayP99Ms),
    delayMaxMs: of((l) => l.delayMaxMs),
    stallsOver5Ms: of((l) => l.stallsOver5Ms),
    gcPauses: of((l) => l.gcPauses),
    gcTotalMs: of((l) => l.gcTotalMs),
    gcMaxMs: of((l) => l.gcMaxMs),
  };
}

/** Medians over rounds for each target, in `order`, with ratios to direct and nginx when measured. */
export function summarize(runs: readonly Run[], order: readonly TargetName[]): TargetSummary[] {
  const base = order
    .map((target) => {
      const mine = runs.filter((r) => r.target === target);
      if (mine.length === 0) return undefined;
      const utilisation = medianOrNull(mine.map((r) => r.cpuUtilisation));
      const paced = mine.every((r) => r.offeredRate !== null);
      return {
        target,
        rps: median(mine.map((r) => r.rps)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        cpuUsPerRequest: medianOrNull(mine.map((r) => r.cpuUsPerRequest)),
        cpuUtilisation: utilisation,
        saturated: utilisation === null || paced ? null : utilisation >= SATURATED,
        workerShare: medianOrNull(mine.map((r) => (r.workerCpuSeconds === null || !r.cpuSeconds ? null : r.workerCpuSeconds / r.cpuSeconds))),
        loop: medianLoop(mine),
      };
    })
    .filter((s) => s !== undefined);
  const direct = base.find((s) => s.target === 'direct');
  const nginx = base.find((s) => s.target === 'nginx');
  return base.map((s) => ({
    ...s,
    rpsVsDirect: direct ? s.rps / direct.rps : null,
    rpsVsNginx: nginx ? s.rps / nginx.rps : null,
    cpuVsNginx: nginx?.cpuUsPerRequest && s.cpuUsPerRequest !== null ? s.cpuUsPerRequest / nginx.cpuUsPerRequest : null,
  }));
}

/** Aligned columns: the first left-aligned, the rest right-aligned, a rule under the header. */
function alignedTable(columns: readonly string[], cells: readonly string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

const dash = (v: number | null, f: (n: number) => string): string => (v === null ? '-' : f(v));
const pct = (v: number): string => `${(100 * v).toFixed(0)}%`;
const times = (v: number): string => `${v.toFixed(2)}×`;

/** The cells both tables start with: target, rps, p50, p99, CPU per request, and `cpuUsed` as each shows it. */
const leadingCells = (r: TargetSummary, cpuUsed: string): string[] => [
  r.target,
  Math.round(r.rps).toString(),
  r.p50Ms.toFixed(2),
  r.p99Ms.toFixed(2),
  dash(r.cpuUsPerRequest, (v) => v.toFixed(1)),
  cpuUsed,
];

const COLUMNS = ['target', 'rps', 'p50 ms', 'p99 ms', 'CPU µs/req', 'CPU used', 'rps vs direct', 'rps vs nginx', 'CPU vs nginx'];

/** The full-load table; a `*` after CPU used marks a proxy that was not saturated (its rps is a floor). */
export function formatTable(rows: readonly TargetSummary[]): string {
  const cells = rows.map((r) => [
    ...leadingCells(r, dash(r.cpuUtilisation, (v) => `${pct(v)}${r.saturated === false ? '*' : ' '}`)),
    dash(r.rpsVsDirect, pct),
    dash(r.rpsVsNginx, pct),
    dash(r.cpuVsNginx, times),
  ]);
  const notes = rows
    .filter((r) => r.saturated === false)
    .map((r) => `* ${r.target} used ${pct(r.cpuUtilisation ?? 0)} of a core: not saturated (the load generator or backend was the limit), so its rps is a floor`);
  return [alignedTable(COLUMNS, cells), ...notes].join('\n');
}

const FIXED_COLUMNS = ['target', 'rps', 'p50 ms', 'p99 ms', 'CPU µs/req', 'CPU used', 'CPU vs nginx', 'p50 vs direct', 'p99 vs nginx'];

/** Every target at the same paced rate: CPU per request at equal work, and latency at that load. */
export function formatFixedRate(rate: number, rows: readonly TargetSummary[]): string {
  const direct = rows.find((r) => r.target === 'direct');
  const nginx = rows.find((r) => r.target === 'nginx');
  const signedMs = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(2)} ms`;
  const cells = rows.map((r) => [
    ...leadingCells(r, dash(r.cpuUtilisation, pct)),
    dash(r.cpuVsNginx, times),
    direct === undefined || r === direct ? '-' : signedMs(r.p50Ms - direct.p50Ms),
    nginx === undefined || r === nginx ? '-' : signedMs(r.p99Ms - nginx.p99Ms),
  ]);
  return `at a fixed ${Math.round(rate)} rps for every target (half of switchyard's median full-load rps):\n${alignedTable(FIXED_COLUMNS, cells)}`;
}

/** Switchyard's own figures per target: the workers' share of its CPU, loop delay and GC over a window. */
export function formatSwitchyardDetail(label: string, rows: readonly TargetSummary[]): string[] {
  return rows
    .filter((r) => r.loop !== null || r.workerShare !== null)
    .map((r) => {
      const l = r.loop;
      const loop =
        l === null
          ? 'no loop figures (could not read /metrics)'
          : `event-loop delay p99 ≤ ${l.delayP99Ms} ms, max ≤ ${l.delayMaxMs} ms, ${l.stallsOver5Ms} ticks over 5 ms of ${l.ticks}; ` +
            `GC ${l.gcPauses} pauses, ${l.gcTotalMs.toFixed(0)} ms in all, longest ≤ ${l.gcMaxMs} ms`;
      return `${r.target} ${label}: workers ${dash(r.workerShare, pct)} of its CPU; ${loop} (medians per window)`;
    });
}

/** Above this share of the proxy core going to other work, a run is flagged as disturbed. */
const FOREIGN_WARN = 0.1;

/**
 * Problems worth a line under the table: errors and error statuses make a run's numbers suspect,
 * and so does other work on the proxy's core (a shared or busy machine).
 */
export function formatWarnings(runs: readonly Run[]): string[] {
  const warnings: string[] = [];
  for (const r of runs) {
    const which = `${r.target} round ${r.round + 1}${r.offeredRate === null ? '' : ' (fixed rate)'}`;
    if (r.errors > 0 || r.badStatus > 0) {
      warnings.push(`warning: ${which}: ${r.errors} socket errors/timeouts, ${r.badStatus} error statuses`);
    }
    if (r.proxyCoreForeignShare !== null && r.proxyCoreForeignShare > FOREIGN_WARN) {
      warnings.push(
        `warning: ${which}: other processes used ${(100 * r.proxyCoreForeignShare).toFixed(0)}% of the proxy core; ` +
          'the machine is not quiet, so treat this run with suspicion',
      );
    }
  }
  return warnings;
}

/** Writes `report` to bench/results/proxy-<timestamp>.json and returns the path. */
export function writeResults(report: object, startedAt: Date): string {
  const dir = 'bench/results';
  mkdirSync(dir, { recursive: true });
  // ISO 8601 with ':' replaced, since ':' is not allowed in file names on every system that checks this repo out.
  const path = join(dir, `proxy-${startedAt.toISOString().replace(/:/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

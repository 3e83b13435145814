// Turns the raw runs into the summary: medians per target, ratios to direct and nginx, the
// half-capacity latency line, the printed table and the JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from './load.js';
import type { TargetName } from './targets.js';

export interface Run extends LoadResult {
  round: number;
  target: TargetName;
  /** Requests/s the load generator paced at; null for the as-fast-as-possible runs. */
  offeredRate: number | null;
  /** Proxy CPU (user + system) over the load window; null for direct. */
  cpuSeconds: number | null;
  cpuUsPerRequest: number | null;
  /** Share of the proxy core's time (0..1) used by anything but the proxy during the window; null unpinned. */
  proxyCoreForeignShare: number | null;
}

export interface TargetSummary {
  target: TargetName;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number | null;
  rpsVsDirect: number | null;
  rpsVsNginx: number | null;
  cpuVsNginx: number | null;
}

export interface HalfCapacity {
  /** Requests/s offered: half of switchyard's median maximum. */
  rate: number;
  runs: Run[];
  directRps: number;
  switchyardRps: number;
  directP50Ms: number;
  directP99Ms: number;
  switchyardP50Ms: number;
  switchyardP99Ms: number;
  addedP50Ms: number;
  addedP99Ms: number;
}

/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid] ?? Number.NaN;
  return ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

/** Medians over rounds for each target, in `order`, with ratios to direct and nginx when measured. */
export function summarize(runs: readonly Run[], order: readonly TargetName[]): TargetSummary[] {
  const base = order
    .map((target) => {
      const mine = runs.filter((r) => r.target === target);
      if (mine.length === 0) return undefined;
      const cpu = mine.map((r) => r.cpuUsPerRequest).filter((c): c is number => c !== null);
      return {
        target,
        rps: median(mine.map((r) => r.rps)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        cpuUsPerRequest: cpu.length > 0 ? median(cpu) : null,
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

/** Medians of the paced runs against direct and switchyard, and what switchyard adds. */
export function summarizeHalf(rate: number, runs: Run[]): HalfCapacity {
  const of = (target: TargetName, pick: (r: Run) => number): number =>
    median(runs.filter((r) => r.target === target).map(pick));
  const half = {
    rate,
    runs,
    directRps: of('direct', (r) => r.rps),
    switchyardRps: of('switchyard', (r) => r.rps),
    directP50Ms: of('direct', (r) => r.p50Ms),
    directP99Ms: of('direct', (r) => r.p99Ms),
    switchyardP50Ms: of('switchyard', (r) => r.p50Ms),
    switchyardP99Ms: of('switchyard', (r) => r.p99Ms),
  };
  return { ...half, addedP50Ms: half.switchyardP50Ms - half.directP50Ms, addedP99Ms: half.switchyardP99Ms - half.directP99Ms };
}

const COLUMNS = ['target', 'rps', 'p50 ms', 'p99 ms', 'CPU µs/req', 'rps vs direct', 'rps vs nginx', 'CPU vs nginx'];

/** The results table, right-aligned numbers, `-` where a value does not apply. */
export function formatTable(rows: readonly TargetSummary[]): string {
  const cells = rows.map((r) => [
    r.target,
    Math.round(r.rps).toString(),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.cpuUsPerRequest === null ? '-' : r.cpuUsPerRequest.toFixed(1),
    r.rpsVsDirect === null ? '-' : `${(100 * r.rpsVsDirect).toFixed(0)}%`,
    r.rpsVsNginx === null ? '-' : `${(100 * r.rpsVsNginx).toFixed(0)}%`,
    r.cpuVsNginx === null ? '-' : `${r.cpuVsNginx.toFixed(2)}×`,
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(COLUMNS), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** The one-line verdict of the half-capacity runs. */
export function formatHalf(h: HalfCapacity): string {
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  return (
    `latency at half capacity (${Math.round(h.rate)} rps offered = 50% of switchyard's max; ` +
    `achieved direct ${Math.round(h.directRps)}, switchyard ${Math.round(h.switchyardRps)}):\n` +
    `  p99 direct ${ms(h.directP99Ms)}, switchyard ${ms(h.switchyardP99Ms)} -> switchyard adds ${ms(h.addedP99Ms)} at p99` +
    ` (p50 adds ${ms(h.addedP50Ms)})`
  );
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
    const which = `${r.target} round ${r.round + 1}${r.offeredRate === null ? '' : ' (half capacity)'}`;
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

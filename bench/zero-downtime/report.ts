// The printed tables and the results file: failures per class and kind, throughput and p99 during
// deploys against steady state, the switchyard timings, and the side-by-side with naive and PM2.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { THROUGHPUT_TARGET, type SwitchyardFigures, type TargetFigures, type Window } from './figures.js';
import { CLASSES, FAILURE_KINDS } from './load/recorder.js';

/** Right-aligned columns (the first left-aligned), a dashed rule under the head. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (row: readonly string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const ms = (v: number | null): string => (v === null ? '-' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
const pct = (v: number | null): string => (v === null ? '-' : `${(100 * v).toFixed(1)}%`);
const rps = (v: number): string => v.toFixed(1);
const latency = (v: number | null): string => (v === null ? '-' : v.toFixed(1));

/** Failures per client class and kind for one target. */
export function classTable(f: TargetFigures): string {
  const head = ['class', 'sent', 'ok', 'failed', ...FAILURE_KINDS, 'injected', 'SIGKILLed', 'ws 1001'];
  const rows = f.classes.map((c) => [
    c.cls,
    String(c.sent),
    String(c.succeeded),
    String(c.failedTotal),
    ...FAILURE_KINDS.map((k) => String(c.failed[k])),
    String(c.injected),
    String(FAILURE_KINDS.reduce((sum, k) => sum + c.killed[k], 0)),
    c.cls === 'ws' ? String(c.goingAway) : '',
  ]);
  return table(head, rows);
}

/** Throughput and latency during deploys against steady state. */
export function windowLines(f: TargetFigures): string[] {
  const w = (x: Window) =>
    `${rps(x.getRps)} GET/s (${rps(x.allRps)} answers/s of all classes) over ${x.seconds} s, GET p50 ${latency(x.getP50Ms)} ms, p99 ${latency(x.getP99Ms)} ms, ` +
    `upload p99 ${latency(x.uploadP99Ms)} ms; other processes used ${pct(x.othersCpu)} of the CPUs`;
  const unit = { get: 'answers', upload: 'answers', slow: 'answers', sse: 'events', ws: 'echoes' } as const;
  const byClass = CLASSES.map((cls) => `${cls} ${rps(f.steady.rps[cls])} -> ${rps(f.duringDeploys.rps[cls])} ${unit[cls]}/s = ${pct(f.throughputByClass[cls])}`).join(', ');
  const below = f.throughputBelowTarget.length === 0 ? 'every class at target' : `BELOW TARGET: ${f.throughputBelowTarget.join(', ')}`;
  return [
    `steady state:    ${w(f.steady)}`,
    `during deploys:  ${w(f.duringDeploys)}`,
    `throughput during deploys vs steady, per class (target >= ${pct(THROUGHPUT_TARGET)}): ${byClass}; ${below}`,
  ];
}

export function switchyardLines(s: SwitchyardFigures): string[] {
  const lines = [`deploy outcomes as expected: ${s.outcomes.length - s.unexpectedOutcomes}/${s.outcomes.length}`];
  for (const o of s.outcomes.filter((x) => !x.ok)) lines.push(`  UNEXPECTED: ${o.deploy}: ${o.outcome} (expected ${o.expect})`);
  lines.push(`answers from never-healthy releases: ${s.neverHealthyAnswers} (invariant 1: must be 0)`);
  for (const a of s.abortToStable) {
    lines.push(`abort of a paused canary -> 100% stable: ${ms(a.stableMs)} (API shows stable 100% after ${ms(a.apiMs)}; last canary answer sent ${ms(a.lastCanaryAnswerMs)} after the abort)`);
  }
  for (const c of s.canaryToRollback) {
    lines.push(
      `failing canary -> rolled back: ${ms(c.toRolledBackMs)} from the first injected 500 (analysis decided after ${ms(c.firstInjectedToRollingBackMs)}, ` +
        `canary out of traffic after ${ms(c.toTrafficOffMs)}; ${c.injected} injected 500s seen, reported apart)`,
    );
  }
  for (const r of s.rollbackSwitch) {
    lines.push(`rollback right after a blue-green switch: ${r.toVersion} at 100% ${ms(r.switchMs)} after the request (asked ${ms(r.afterSwitchMs)} after the switch finished)`);
  }
  for (const k of s.kills) lines.push(`SIGKILL of ${k.instance} (pid ${k.pid}) mid-deploy: ${k.casualties} uploads/streams/sessions served by it and open at the kill failed (not replayable, invariant 5; excused with evidence, listed in the results)`);
  return lines;
}

/** The side by side: failures per class and throughput for each target. */
export function comparisonTable(all: readonly TargetFigures[]): string {
  const head = ['target', 'deploys', 'get', 'upload', 'slow', 'sse', 'ws', 'failed', 'per deploy', 'GET/s steady', 'GET/s deploying', 'ratio', 'GET p99 steady', 'GET p99 deploying', "others' CPU steady", "others' CPU deploying"];
  const rows = all.map((f) => {
    const by = (cls: string) => String(f.classes.find((c) => c.cls === cls)?.failedTotal ?? 0);
    return [
      f.target,
      String(f.deploys),
      by('get'),
      by('upload'),
      by('slow'),
      by('sse'),
      by('ws'),
      String(f.failed),
      f.deploys === 0 ? '-' : (f.failed / f.deploys).toFixed(1),
      rps(f.steady.getRps),
      rps(f.duringDeploys.getRps),
      pct(f.throughputRatio),
      `${latency(f.steady.getP99Ms)} ms`,
      `${latency(f.duringDeploys.getP99Ms)} ms`,
      pct(f.steady.othersCpu),
      pct(f.duringDeploys.othersCpu),
    ];
  });
  return table(head, rows);
}

/** Writes the report to bench/results/zero-downtime-<timestamp>.json (or `path`) and returns the path. */
export function writeResults(report: object, startedAt: Date, path?: string): string {
  const file = path ?? join('bench/results', `zero-downtime-${startedAt.toISOString().replace(/:/g, '-')}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

// The figures of one target's run, from what the load recorded and what the deploys did: failures per
// class and kind (injected canary errors apart, and SIGKILL casualties apart only with evidence),
// throughput of every class and p99 during deploys against steady state, and the switchyard timings
// (abort, failing canary, rollback). Pure.
import type { DeployRecord } from './cycle.js';
import type { Phase, PhaseName } from './load/phases.js';
import { CLASSES, FAILURE_KINDS, emptyKinds, type ClassTotals, type ClientClass, type Failure, type FailureKind, type Recorder } from './load/recorder.js';

/** Why each class is promised zero failures through switchyard (DESIGN.md's invariants). */
export const PROMISES: Record<ClientClass, string> = {
  get: 'invariants 1, 2, 5, 6: only healthy instances, out of rotation before stopping, safe retries, atomic swaps',
  upload: 'invariant 2: an instance leaves rotation and drains before it is stopped',
  slow: 'invariants 2 and 9: 2-5 s requests finish within the 6 s drain timeout',
  sse: 'invariant 9: 2-4 s streams finish within the 6 s drain timeout',
  ws: 'invariant 9: a session still open at the drain deadline is closed with 1001',
};

export interface ClassFigures extends ClassTotals {
  cls: ClientClass;
  /** Failures that count: all failures minus the excused SIGKILL casualties. */
  failedTotal: number;
  /** Failures excused as in flight on an instance the bench killed with SIGKILL (by kind). */
  killed: Record<FailureKind, number>;
}

/** A failure excused by a SIGKILL, with its evidence (written to the results JSON). */
export interface Excused {
  class: ClientClass;
  reason: string;
  /** The app process that served the connection (x-app-pid) and was killed. */
  pid: number;
  /** When the response head or handshake arrived, and when the kill was sent (ms since load start). */
  connectedAt: number;
  killedAt: number;
}

/** Below this share of its steady-state throughput during deploys, a class fails the run. */
export const THROUGHPUT_TARGET = 0.95;

export interface Window {
  /** Good answers per second in this phase, averaged over its whole seconds. */
  getRps: number;
  allRps: number;
  /** Work per second of each class (Recorder.workPerSecond): completions, or messages for SSE and WebSockets. */
  rps: Record<ClientClass, number>;
  seconds: number;
  getP50Ms: number | null;
  getP99Ms: number | null;
  uploadP99Ms: number | null;
  /** Mean share of the machine's CPUs used by other processes (neighbours) over these seconds. */
  othersCpu: number | null;
}

/** Per-second CPU use by processes that are not the bench's (see machine-load.ts). */
export interface OthersCpu {
  meanOver(seconds: readonly number[]): number | null;
}

export interface TargetFigures {
  target: string;
  deploys: number;
  durationS: number;
  classes: ClassFigures[];
  /** Failures where switchyard promises zero (every class; SIGKILL casualties and injected errors apart). */
  failed: number;
  steady: Window;
  duringDeploys: Window;
  /** duringDeploys.getRps / steady.getRps. */
  throughputRatio: number | null;
  /** Per class: throughput during deploys / steady state. */
  throughputByClass: Record<ClientClass, number | null>;
  /** Classes whose throughput during deploys fell below THROUGHPUT_TARGET of steady state. */
  throughputBelowTarget: ClientClass[];
  /** Failures excused by a SIGKILL, each with its evidence. */
  excused: Excused[];
  /** Every counted failure, located in the timeline (first 200). */
  failureLog: string[];
}

export interface SwitchyardFigures {
  outcomes: { deploy: string; expect: string; outcome: string; ok: boolean; seconds: number }[];
  unexpectedOutcomes: number;
  /** Answers from releases whose health check never passed (invariant 1: must be 0). */
  neverHealthyAnswers: number;
  abortToStable: { apiMs: number; lastCanaryAnswerMs: number; stableMs: number }[];
  canaryToRollback: { firstInjectedToRollingBackMs: number | null; toTrafficOffMs: number; toRolledBackMs: number | null; injected: number }[];
  rollbackSwitch: { afterSwitchMs: number | null; switchMs: number; toVersion: string }[];
  kills: { pid: number; instance: string; casualties: number }[];
}

const KILL_EXCUSABLE: readonly ClientClass[] = ['upload', 'sse', 'ws'];
/** Cut mid-answer; never a refused connect or a failed handshake (those must be retried, invariant 5). */
const KILL_KINDS: readonly FailureKind[] = ['truncated', 'ws-close'];

/**
 * The evidence that a failure was caused by a SIGKILL the bench did, or null: an upload, stream or
 * session whose answer had begun (so it cannot be replayed, invariant 5), served by the very process
 * that was killed (x-app-pid), and open when it was killed.
 */
export function excuse(f: Failure, kills: readonly { pid: number; at: number }[]): Excused | null {
  if (!KILL_EXCUSABLE.includes(f.cls) || !KILL_KINDS.includes(f.kind) || f.pid === null || f.connectedAt === null) return null;
  const kill = kills.find((k) => k.pid === f.pid && f.connectedAt! <= k.at && k.at <= f.end);
  if (kill === undefined) return null;
  return { class: f.cls, reason: `${f.kind}: in flight on pid ${kill.pid} when it was killed`, pid: kill.pid, connectedAt: f.connectedAt, killedAt: kill.at };
}

export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Figures of one target's run. `kills` are the SIGKILLs the bench did (switchyard only). */
export function targetFigures(
  target: string,
  rec: Recorder,
  phases: readonly Phase[],
  records: readonly DeployRecord[],
  deploys: number,
  others?: OthersCpu,
): TargetFigures {
  const kills = records.flatMap((r) => (r.kill ? [r.kill] : []));
  const classes = CLASSES.map((cls): ClassFigures => {
    const totals = rec.totals.get(cls)!;
    const killed = emptyKinds();
    const failed = { ...totals.failed };
    for (const f of rec.failures) {
      if (f.cls !== cls || excuse(f, kills) === null) continue;
      killed[f.kind]++;
      failed[f.kind]--;
    }
    const failedTotal = FAILURE_KINDS.reduce((sum, k) => sum + failed[k], 0);
    return { cls, ...totals, failed, killed, failedTotal };
  });
  const end = phases.at(-1)?.to ?? rec.now();
  const steady = windowOf(rec, phases, 'steady', end, others);
  const duringDeploys = windowOf(rec, phases, 'deploy', end, others);
  const counted = rec.failures.filter((f) => excuse(f, kills) === null);
  const throughputByClass = {} as Record<ClientClass, number | null>;
  for (const cls of CLASSES) throughputByClass[cls] = steady.rps[cls] > 0 ? duringDeploys.rps[cls] / steady.rps[cls] : null;
  return {
    target,
    deploys,
    durationS: Math.round(end / 1000),
    classes,
    failed: classes.reduce((sum, c) => sum + c.failedTotal, 0),
    steady,
    duringDeploys,
    throughputRatio: throughputByClass.get,
    throughputByClass,
    throughputBelowTarget: CLASSES.filter((cls) => (throughputByClass[cls] ?? 0) < THROUGHPUT_TARGET),
    excused: rec.failures.flatMap((f) => excuse(f, kills) ?? []),
    failureLog: counted.slice(0, 200).map((f) => locate(f, records)),
  };
}

/** Average good answers per second over the whole seconds whose middle fell in `phase`. */
function windowOf(rec: Recorder, phases: readonly Phase[], phase: PhaseName, endMs: number, others: OthersCpu | undefined): Window {
  const lastWhole = Math.floor(endMs / 1000) - 1;
  const inPhase: number[] = [];
  let seconds = 0;
  const sums = Object.fromEntries(CLASSES.map((cls) => [cls, 0])) as Record<ClientClass, number>;
  for (let s = 1; s < lastWhole; s++) {
    if (phaseAt(phases, s * 1000 + 500) !== phase) continue;
    seconds++;
    inPhase.push(s);
    for (const cls of CLASSES) sums[cls] += rec.workPerSecond[cls][s] ?? 0;
  }
  const rps = Object.fromEntries(CLASSES.map((cls) => [cls, seconds === 0 ? 0 : sums[cls] / seconds])) as Record<ClientClass, number>;
  const getLatencies = rec.latenciesOf('get', phase);
  let all = 0;
  for (const s of inPhase) for (const cls of CLASSES) all += rec.perSecond[cls][s] ?? 0;
  return {
    getRps: rps.get,
    allRps: seconds === 0 ? 0 : all / seconds,
    rps,
    seconds,
    getP50Ms: percentile(getLatencies, 0.5),
    getP99Ms: percentile(getLatencies, 0.99),
    uploadP99Ms: percentile(rec.latenciesOf('upload', phase), 0.99),
    othersCpu: others?.meanOver(inPhase) ?? null,
  };
}

function phaseAt(phases: readonly Phase[], ms: number): PhaseName | undefined {
  for (let i = phases.length - 1; i >= 0; i--) if (phases[i]!.from <= ms) return phases[i]!.phase;
  return undefined;
}

/** One failure in words, with the deployment step that was running when it was sent. */
function locate(f: Failure, records: readonly DeployRecord[]): string {
  const record = [...records].reverse().find((r) => r.startMs <= f.start);
  const during = record !== undefined && f.start <= record.endMs;
  const event = record?.events.filter((e) => e.at <= f.end).at(-1);
  const where = during ? `${record.label}${event ? `; last event at ${(event.at / 1000).toFixed(1)} s: ${event.type} ${event.message}` : ''}` : f.label;
  // A request in flight when the bench killed an instance: name the kill, it is the likelier cause.
  const kill = records.find((r) => r.kill !== undefined && f.start <= r.kill.at && r.kill.at <= f.end)?.kill;
  const killed = kill === undefined ? '' : `; in flight at the SIGKILL of ${kill.instance} (pid ${kill.pid}) at ${(kill.at / 1000).toFixed(1)} s`;
  return `${(f.start / 1000).toFixed(1)}-${(f.end / 1000).toFixed(1)} s ${f.cls} ${f.kind}${f.pid === null ? '' : ` pid ${f.pid}`} [${where}${killed}]: ${f.detail.trim()}`;
}

/** The switchyard-only figures: deploy outcomes, invariant 1, abort, failing canary and rollback timings. */
export function switchyardFigures(rec: Recorder, records: readonly DeployRecord[]): SwitchyardFigures {
  const outcomes = records.map((r) => ({
    deploy: r.label,
    expect: r.expect,
    outcome: r.outcome,
    ok: r.outcome === r.expect,
    seconds: Math.round((r.endMs - r.startMs) / 100) / 10,
  }));
  const answersFrom = (version: string) => (rec.versions.get(version)?.count ?? 0) + (rec.injectedByVersion.get(version)?.count ?? 0);
  const lastStartOf = (version: string) => Math.max(rec.versions.get(version)?.lastStart ?? -Infinity, rec.injectedByVersion.get(version)?.lastStart ?? -Infinity);
  const eventAt = (r: DeployRecord, type: string) => r.events.find((e) => e.type === type)?.at ?? null;
  return {
    outcomes,
    unexpectedOutcomes: outcomes.filter((o) => !o.ok).length,
    neverHealthyAnswers: records.filter((r) => r.kind === 'never-healthy' && r.version !== null).reduce((sum, r) => sum + answersFrom(r.version!), 0),
    abortToStable: records.flatMap((r) => {
      if (!r.abort) return [];
      const apiMs = r.abort.apiStableAt - r.abort.at;
      const lastCanaryAnswerMs = Math.max(0, lastStartOf(r.abort.canaryVersion) - r.abort.at);
      return [{ apiMs, lastCanaryAnswerMs, stableMs: Math.max(apiMs, lastCanaryAnswerMs) }];
    }),
    canaryToRollback: records.flatMap((r) => {
      const seen = r.kind === 'canary-injected' && r.version !== null ? rec.injectedByVersion.get(r.version) : undefined;
      if (seen === undefined || r.version === null) return [];
      const first = seen.firstEnd;
      const rollingBack = eventAt(r, 'deployment.rolling-back');
      const rolledBack = eventAt(r, 'deployment.rolled-back');
      return [
        {
          firstInjectedToRollingBackMs: rollingBack === null ? null : rollingBack - first,
          toTrafficOffMs: Math.max(0, lastStartOf(r.version) - first),
          toRolledBackMs: rolledBack === null ? null : rolledBack - first,
          injected: seen.count,
        },
      ];
    }),
    rollbackSwitch: records.flatMap((r) => (r.rollback ? [{ afterSwitchMs: r.rollback.afterSwitchMs, switchMs: r.rollback.apiSwitchedAt - r.rollback.at, toVersion: r.rollback.toVersion }] : [])),
    kills: records.flatMap((r) => {
      if (!r.kill) return [];
      const kill = r.kill;
      return [{ pid: kill.pid, instance: kill.instance, casualties: rec.failures.filter((f) => excuse(f, [kill]) !== null).length }];
    }),
  };
}

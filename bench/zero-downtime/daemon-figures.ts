// The figures of what the bench did to switchyard itself: each upgrade (how long from the request to
// the new generation serving, how long the old one took to drain and exit, whether every app kept its
// process) and each controller SIGKILL (how long until another controller answered), and over an
// upgrade run, how many switchyard processes ran at most. Anything that breaks a promise is a problem,
// listed in words; none is excused. Pure.
import type { ControllerKill, UpgradeRecord } from './daemon-faults.js';
import { spreadOf, type Spread } from './stats.js';

export interface UpgradeFigure {
  /** The scenario or run step it belongs to. */
  label: string;
  from: number;
  to: number;
  outcome: string;
  /** Request → the new generation reports itself serving, as the bench saw it (polled every 20 ms). */
  durationMs: number | null;
  /** The same, by the daemon's own clock (upgrade.startedAt → finishedAt). */
  daemonMs: number | null;
  /** New generation serving → the last process of the old one gone (its drain). */
  oldExitMs: number | null;
  appsBefore: number;
  appsKept: number;
  stoppedByDeploy: number;
  startedByDeploy: number;
}

export interface ControllerKillFigure {
  label: string;
  step: string;
  pid: number;
  newPid: number | null;
  /** SIGKILL → another controller answered the admin API. */
  backMs: number | null;
  appsBefore: number;
  appsKept: number;
  stoppedByDeploy: number;
  startedByDeploy: number;
}

export function upgradeFigure(label: string, u: UpgradeRecord): UpgradeFigure {
  return {
    label,
    from: u.from,
    to: u.to,
    outcome: u.outcome,
    durationMs: u.durationMs,
    daemonMs: u.daemonMs,
    oldExitMs: u.oldExitedAt === null || u.servingAt === null ? null : u.oldExitedAt - u.servingAt,
    appsBefore: u.apps?.before.length ?? 0,
    appsKept: u.apps?.kept ?? 0,
    stoppedByDeploy: u.apps?.stoppedByDeploy.length ?? 0,
    startedByDeploy: u.apps?.startedByDeploy.length ?? 0,
  };
}

export function controllerKillFigure(label: string, k: ControllerKill): ControllerKillFigure {
  return {
    label,
    step: k.step,
    pid: k.pid,
    newPid: k.newPid,
    backMs: k.backAt === null ? null : k.backAt - k.at,
    appsBefore: k.apps?.before.length ?? 0,
    appsKept: k.apps?.kept ?? 0,
    stoppedByDeploy: k.apps?.stoppedByDeploy.length ?? 0,
    startedByDeploy: k.apps?.startedByDeploy.length ?? 0,
  };
}

/** What went wrong in one upgrade, in words: it did not succeed, an app lost its process, or the old generation stayed. */
export function upgradeProblems(label: string, u: UpgradeRecord, waitedForExit: boolean): string[] {
  const problems: string[] = [];
  if (u.outcome !== 'succeeded') problems.push(`${label}: upgrade to generation ${u.to} ${u.outcome}`);
  for (const p of u.apps?.problems ?? []) problems.push(`${label}: upgrade to generation ${u.to}: ${p}`);
  if (u.outcome === 'succeeded' && waitedForExit && u.oldExitedAt === null) problems.push(`${label}: generation ${u.from} did not exit after its drain`);
  return problems;
}

export function controllerKillProblems(label: string, k: ControllerKill): string[] {
  const problems = (k.apps?.problems ?? []).map((p) => `${label}: controller SIGKILL: ${p}`);
  if (k.backAt === null) problems.push(`${label}: no controller came back after the SIGKILL of ${k.pid}`);
  return problems;
}

/** The upgrade run's summary: every upgrade's timings, the apps, and the switchyard processes. */
export interface UpgradeRunFigures {
  upgrades: number;
  succeeded: number;
  durationMs: Spread;
  daemonMs: Spread;
  oldExitMs: Spread;
  /** Upgrades after which every app instance ran under the PID it had before. */
  appsKeptAll: number;
  /** App instances running (the same ones throughout when nothing went wrong). */
  apps: number;
  /** The most switchyard processes seen at once, and the most generations. */
  processesMax: number;
  generationsMax: number;
  /** Switchyard processes once each old generation had exited: the most after any upgrade. */
  processesAfterMax: number | null;
  problems: string[];
  each: UpgradeFigure[];
}

export function upgradeRunFigures(records: readonly UpgradeRecord[], samples: readonly { count: number; generations: number }[]): UpgradeRunFigures {
  const each = records.map((u, i) => upgradeFigure(`upgrade ${i + 1}`, u));
  const after = records.map((u) => u.processesAfter).filter((n): n is number => n !== null);
  return {
    upgrades: records.length,
    succeeded: records.filter((u) => u.outcome === 'succeeded').length,
    durationMs: spreadOf(each.map((e) => e.durationMs)),
    daemonMs: spreadOf(each.map((e) => e.daemonMs)),
    oldExitMs: spreadOf(each.map((e) => e.oldExitMs)),
    appsKeptAll: records.filter((u) => u.apps !== null && u.apps.problems.length === 0 && u.apps.kept === u.apps.before.length).length,
    apps: Math.max(0, ...records.map((u) => u.apps?.before.length ?? 0)),
    processesMax: Math.max(0, ...samples.map((s) => s.count)),
    generationsMax: Math.max(0, ...samples.map((s) => s.generations)),
    processesAfterMax: after.length === 0 ? null : Math.max(...after),
    problems: records.flatMap((u, i) => upgradeProblems(`upgrade ${i + 1}`, u, true)),
    each,
  };
}

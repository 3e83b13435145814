// What one target's run produced (figures, the timeline, the failures) and the loop the baselines share:
// the same disruptive action (a naive restart, `pm2 reload`, `pm2 update`, today's daemon restart)
// repeated under load, each one a phase of its own, with which app processes survived it.
import type { DaemonHandle } from './daemon-faults.js';
import type { UpgradeRunFigures } from './daemon-figures.js';
import { targetFigures, type SwitchyardFigures, type TargetFigures } from './figures.js';
import { stopping } from '../lifecycle.js';
import type { MachineLoad } from './machine-load.js';
import type { underLoad } from './under-load.js';

/** Per deployment, at most this long (a 2-instance rolling deploy with 6 s drains takes ~15 s). */
export const DEPLOY_BUDGET_MS = 120_000;

/** How many of the app processes running before each restart were still the ones serving after it. */
export interface AppsKept {
  restarts: number;
  /** Restarts after which every app process was the same one. */
  keptAll: number;
  /** App processes kept over all restarts, out of those running before each. */
  kept: number;
  before: number;
}

export interface TargetRun {
  figures: TargetFigures;
  switchyard?: SwitchyardFigures;
  /** The upgrade run's own figures (switchyard with --upgrades). */
  upgradeRun?: UpgradeRunFigures;
  appsKept?: AppsKept;
  deploys: unknown[];
  phases: unknown[];
  perSecond: unknown;
  failures: unknown[];
}

export type Load = Parameters<Parameters<typeof underLoad>[2]>[0];

export interface Repeated {
  /** "pm2 reload" */
  what: string;
  /** Each time with a new version (v2, v3, ...), or the same one (a restart, an update). */
  versioned: boolean;
  action: (version: string) => Promise<void>;
  /** The app processes, to see which survived. */
  apps?: () => number[];
}

/** An action `count` times under load, each a phase of its own. */
export async function repeat(load: Load, count: number, { what, versioned, action, apps }: Repeated): Promise<AppsKept> {
  const kept: AppsKept = { restarts: 0, keptAll: 0, kept: 0, before: 0 };
  for (let i = 0; i < count && !stopping(); i++) {
    const version = `v${i + 2}`;
    const label = `${what} ${i + 1}${versioned ? `: ${version}` : ''}`;
    load.phases.enter('deploy', label);
    const started = Date.now();
    const before = apps?.() ?? [];
    await action(version);
    const after = new Set(apps?.() ?? []);
    const survived = before.filter((pid) => after.has(pid)).length;
    Object.assign(kept, { restarts: kept.restarts + 1, keptAll: kept.keptAll + (survived === before.length ? 1 : 0), kept: kept.kept + survived, before: kept.before + before.length });
    load.phases.enter('between', `after ${what} ${i + 1}`);
    const appNote = apps === undefined ? '' : `; app processes kept: ${survived}/${before.length}`;
    console.log(`${what} ${i + 1}/${count}${versioned ? ` to ${version}` : ''}: done in ${((Date.now() - started) / 1000).toFixed(1)} s (failures so far: ${failedSoFar(load)})${appNote}`);
  }
  return kept;
}

export function failedSoFar(load: Load): number {
  return [...load.rec.totals.values()].reduce((sum, t) => sum + Object.values(t.failed).reduce((a, b) => a + b, 0), 0);
}

export function baselineRun(name: string, load: Load, count: number, machine: MachineLoad, appsKept?: AppsKept): TargetRun {
  return {
    figures: targetFigures(name, load.rec, load.phases.phases, [], count, { others: machine }),
    appsKept,
    deploys: load.phases.phases.filter((p) => p.phase === 'deploy'),
    phases: load.phases.phases,
    perSecond: { ...load.rec.perSecond, failed: load.rec.failedPerSecond, othersCpu: machine.foreign },
    failures: load.rec.failures.slice(0, 2000),
  };
}

/** The app PIDs of a switchyard daemon, for `repeat`. */
export function appPids(daemon: DaemonHandle): () => number[] {
  return () => daemon.processes().apps.map((a) => a.pid);
}

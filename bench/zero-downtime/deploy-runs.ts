// The deploy cycle's targets: switchyard running the schedule (deploys, faults, its own upgrades and a
// controller crash), the same app restarted naively, and PM2 cluster mode with `pm2 reload`.
import { poll } from './admin.js';
import { runScenario, type DeployRecord } from './cycle.js';
import { handoversOf } from './drain-deadline.js';
import { switchyardFigures, targetFigures } from './figures.js';
import { onExitKill, stopping, tempDir, track } from '../lifecycle.js';
import type { Options } from './options.js';
import { describeScenario, schedule } from './scenarios.js';
import { baselineRun, DEPLOY_BUDGET_MS, failedSoFar, repeat, type TargetRun } from './target-run.js';
import { NaiveTarget } from './targets/naive.js';
import { Pm2Target, type Pm2Install } from './targets/pm2.js';
import { SwitchyardDaemon } from './targets/switchyard.js';
import { underLoad } from './under-load.js';

export async function benchSwitchyard(opts: Options): Promise<TargetRun> {
  const daemon = await SwitchyardDaemon.start(opts.switchyardCli, tempDir('switchyard-bench-zd-'));
  onExitKill(() => daemon.killNow());
  const cleanup = track(() => daemon.stop());
  try {
    const scenarios = schedule(opts.deploys);
    const { load, result: records, machine } = await underLoad(
      daemon.url,
      { ...opts, deployBudgetMs: scenarios.length * DEPLOY_BUDGET_MS, ours: () => daemon.processes().all },
      async (load) => {
        const records: DeployRecord[] = [];
        const ctx = { admin: daemon.admin, daemon, now: () => load.rec.now(), startedAt: load.rec.startedAt };
        for (const s of scenarios) {
          if (stopping()) break;
          load.phases.enter('deploy', describeScenario(s));
          const record = await runScenario(ctx, s, records.at(-1));
          records.push(record);
          load.phases.enter('between', `after ${record.label}`);
          const mark = record.outcome === record.expect ? '' : `  <-- expected ${record.expect}`;
          console.log(`${record.label}: ${record.outcome} in ${((record.endMs - record.startMs) / 1000).toFixed(1)} s (failures so far, SIGKILL casualties included: ${failedSoFar(load)})${mark}`);
          for (const line of daemonNotes(record)) console.log(`  ${line}`);
          for (const note of record.notes) console.log(`  note: ${note}`);
        }
        return records;
      },
      // The blue-green standby fleet retires on a timer; the second steady window starts after it.
      () => poll(async () => ((await daemon.admin.service('web')).standby === null ? true : undefined), 'the standby fleet to retire', 60_000, 200).then(() => undefined),
    );
    return {
      figures: targetFigures('switchyard', load.rec, load.phases.phases, records, records.length, {
        others: machine,
        handovers: handoversOf(records.flatMap((r) => (r.upgrade ? [r.upgrade] : []))),
        drainMs: daemon.drainMs,
      }),
      switchyard: switchyardFigures(load.rec, records),
      deploys: records,
      phases: load.phases.phases,
      perSecond: { ...load.rec.perSecond, failed: load.rec.failedPerSecond, othersCpu: machine.foreign },
      failures: load.rec.failures.slice(0, 2000),
    };
  } finally {
    await cleanup();
  }
}

/** One line per upgrade or controller kill of a scenario, as it happened. */
function daemonNotes(r: DeployRecord): string[] {
  const lines: string[] = [];
  const u = r.upgrade;
  if (u) {
    const apps = u.apps === null ? 'apps not checked' : `app processes kept ${u.apps.kept}/${u.apps.before.length}${u.apps.problems.length > 0 ? `, PROBLEMS: ${u.apps.problems.join('; ')}` : ''}`;
    lines.push(`upgrade to generation ${u.to}: ${u.outcome}${u.durationMs === null ? '' : ` in ${u.durationMs} ms`}; ${apps}`);
  }
  const k = r.controllerKill;
  if (k) {
    const apps = k.apps === null ? '' : `; app processes kept ${k.apps.kept}/${k.apps.before.length}${k.apps.problems.length > 0 ? `, PROBLEMS: ${k.apps.problems.join('; ')}` : ''}`;
    lines.push(`controller ${k.pid} SIGKILLed at step ${k.step}; controller ${k.newPid ?? '?'} answered after ${k.backAt === null ? '?' : k.backAt - k.at} ms${apps}`);
  }
  return lines;
}

export async function benchNaive(opts: Options): Promise<TargetRun> {
  const app = await NaiveTarget.start('v1');
  const cleanup = track(() => app.close());
  try {
    const { load, machine } = await underLoad(app.url, { ...opts, deployBudgetMs: opts.compareDeploys * DEPLOY_BUDGET_MS }, (load) =>
      repeat(load, opts.compareDeploys, { what: 'naive restart', versioned: true, action: (version) => app.restart(version) }),
    );
    return baselineRun('naive', load, opts.compareDeploys, machine);
  } finally {
    await cleanup();
  }
}

export async function benchPm2(opts: Options, pm2: Pm2Install, how: 'reload' | 'update'): Promise<TargetRun> {
  const target = await Pm2Target.start(pm2, tempDir('switchyard-bench-pm2-run-'), 'v1');
  onExitKill(() => target.killNow());
  const cleanup = track(() => target.close());
  try {
    await poll(async () => ((await fetch(`${target.url}/healthz`)).status === 200 ? true : undefined), 'PM2 app to answer', 30_000);
    const { load, result, machine } = await underLoad(target.url, { ...opts, deployBudgetMs: opts.compareDeploys * DEPLOY_BUDGET_MS, ours: () => target.pids() }, (load) =>
      how === 'reload'
        ? repeat(load, opts.compareDeploys, { what: 'pm2 reload', versioned: true, action: (version) => target.reload(version), apps: () => target.appPids() })
        : repeat(load, opts.compareDeploys, { what: 'pm2 update', versioned: false, action: () => target.update(), apps: () => target.appPids() }),
    );
    return baselineRun('pm2', load, opts.compareDeploys, machine, result);
  } finally {
    await cleanup();
  }
}

// The upgrade run (`--upgrades N`): N switchyard upgrades in a row under the load mix, each followed
// until the new generation serves and the old one has drained and exited; beside it, today's restart of
// the daemon (SIGTERM, then `up` again), which stops and starts the apps and refuses connections meanwhile.
import { ProcessCount, upgrade, type UpgradeRecord } from './daemon-faults.js';
import { upgradeRunFigures } from './daemon-figures.js';
import { handoversOf } from './drain-deadline.js';
import { targetFigures } from './figures.js';
import { onExitKill, stopping, tempDir, track } from '../lifecycle.js';
import type { Options } from './options.js';
import { appPids, baselineRun, DEPLOY_BUDGET_MS, failedSoFar, repeat, type TargetRun } from './target-run.js';
import { SwitchyardDaemon } from './targets/switchyard.js';
import { underLoad } from './under-load.js';

/** Per upgrade, at most this long (start ~2 s, the old generation's drain 6 s). */
const UPGRADE_BUDGET_MS = 60_000;

export async function benchUpgrades(opts: Options, count: number): Promise<TargetRun> {
  const daemon = await SwitchyardDaemon.start(opts.switchyardCli, tempDir('switchyard-bench-upgrades-'));
  onExitKill(() => daemon.killNow());
  const cleanup = track(() => daemon.stop());
  try {
    const { load, result, machine } = await underLoad(
      daemon.url,
      { ...opts, deployBudgetMs: count * UPGRADE_BUDGET_MS, ours: () => daemon.processes().all },
      async (load) => {
        const now = () => load.rec.now();
        const processes = new ProcessCount(daemon, now);
        const records: UpgradeRecord[] = [];
        for (let i = 1; i <= count && !stopping(); i++) {
          const generation = (await daemon.admin.daemon()).generation;
          load.phases.enter('deploy', `upgrade ${i}: generation ${generation} → ${generation + 1}`);
          const record = await upgrade(daemon, now);
          records.push(record);
          load.phases.enter('between', `after upgrade ${i}`);
          const apps = record.apps === null ? '-' : `${record.apps.kept}/${record.apps.before.length}${record.apps.problems.length > 0 ? ` PROBLEMS: ${record.apps.problems.join('; ')}` : ''}`;
          const drained = record.oldExitedAt === null || record.servingAt === null ? '?' : `${record.oldExitedAt - record.servingAt} ms`;
          console.log(
            `upgrade ${i}/${count} to generation ${record.to}: ${record.outcome}` +
              `${record.durationMs === null ? '' : ` in ${record.durationMs} ms`}, generation ${record.from} gone ${drained} later; ` +
              `app processes kept ${apps}; switchyard processes now ${record.processesAfter ?? '?'} (at most ${processes.max} so far); failures so far: ${failedSoFar(load)}`,
          );
          if (record.outcome !== 'succeeded') break;
        }
        await processes.stop();
        return { records, samples: processes.samples };
      },
    );
    return {
      figures: targetFigures('switchyard', load.rec, load.phases.phases, [], result.records.length, { others: machine, handovers: handoversOf(result.records), drainMs: daemon.drainMs }),
      upgradeRun: upgradeRunFigures(result.records, result.samples),
      deploys: result.records,
      phases: load.phases.phases,
      perSecond: { ...load.rec.perSecond, failed: load.rec.failedPerSecond, othersCpu: machine.foreign, switchyardProcesses: result.samples },
      failures: load.rec.failures.slice(0, 2000),
    };
  } finally {
    await cleanup();
  }
}

/** Today's way to replace the daemon: SIGTERM (it drains, stops every app), then `switchyard up` again. */
export async function benchRestart(opts: Options): Promise<TargetRun> {
  const daemon = await SwitchyardDaemon.start(opts.switchyardCli, tempDir('switchyard-bench-restart-'));
  onExitKill(() => daemon.killNow());
  const cleanup = track(() => daemon.stop());
  try {
    const { load, result, machine } = await underLoad(daemon.url, { ...opts, deployBudgetMs: opts.compareDeploys * DEPLOY_BUDGET_MS, ours: () => daemon.processes().all }, (load) =>
      repeat(load, opts.compareDeploys, { what: 'restart (SIGTERM + up)', versioned: false, action: () => daemon.restart(), apps: appPids(daemon) }),
    );
    return baselineRun('restart', load, opts.compareDeploys, machine, result);
  } finally {
    await cleanup();
  }
}

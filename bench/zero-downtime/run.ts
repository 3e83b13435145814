// `npm run bench:zero-downtime`: the load mix (GETs, 1 MB uploads, slow requests, SSE, WebSockets)
// through switchyard while it runs a cycle of deploys and faults (its own upgrades and a controller
// crash among them), then the same load against a naive stop-then-start restart and PM2 cluster mode
// with `pm2 reload`. With `--upgrades N`: N switchyard upgrades in a row, beside today's daemon restart
// (SIGTERM + up) and `pm2 update`. Tables on stdout, JSON in bench/results.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { describeMachine } from '../proxy/machine.js';
import { benchNaive, benchPm2, benchSwitchyard } from './deploy-runs.js';
import { runMain, tempDir } from '../lifecycle.js';
import { MIX_DEFAULTS } from './load/mix.js';
import { parseOptions, USAGE, type Options, type TargetName } from './options.js';
import { classTable, comparisonTable, switchyardLines, upgradeRunLines, windowLines, writeResults } from './report.js';
import type { TargetRun } from './target-run.js';
import { installPm2, PM2_KILL_TIMEOUT_MS, type Pm2Install } from './targets/pm2.js';
import { DRAIN_MS, SWITCHYARD_SETTINGS } from './targets/switchyard.js';
import { benchRestart, benchUpgrades } from './upgrade-runs.js';

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const needsCli = opts.targets.includes('switchyard') || opts.targets.includes('restart');
  if (needsCli && !existsSync(opts.switchyardCli)) throw new Error(`${opts.switchyardCli} is missing: run npm run build first`);
  const startedAt = new Date();
  const machine = describeMachine();
  const upgrades = opts.upgrades;
  console.log(`switchyard zero-downtime bench${upgrades === null ? '' : `, ${upgrades} upgrades`}, ${startedAt.toISOString()}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`${machine.cpuModel} (${machine.cpuCount} CPUs), Linux ${machine.kernel}, node ${machine.node}, switchyard ${machine.switchyard}`);
  const m = MIX_DEFAULTS;
  console.log(
    `load: ${opts.getRate} GET/s on ${m.getWorkers} keep-alive connections, ${m.uploadRate} x ${m.uploadBytes / 1024 / 1024} MB uploads/s, ` +
      `${m.slowWorkers} slow requests (${m.slowMs[0] / 1000}-${m.slowMs[1] / 1000} s), ${m.sseWorkers} SSE streams (${m.sseSeconds[0]}-${m.sseSeconds[1]} s), ` +
      `${m.wsWorkers} WebSocket sessions (${m.wsSessionMs[0] / 1000}-${m.wsSessionMs[1] / 1000} s) at a time`,
  );
  if (upgrades !== null) {
    console.log(
      `drain timeout ${DRAIN_MS / 1000} s: what an old generation serves at the hand-over drains at most that long (WebSockets still open then get 1001); ` +
        'a request it begins after it (a kept-alive connection\'s next, answered with Connection: close) gets as long again',
    );
  }

  const runs: Partial<Record<TargetName, TargetRun>> = {};
  let pm2: Pm2Install | undefined;
  if (opts.targets.includes('pm2')) {
    const dir = tempDir('switchyard-bench-pm2-');
    console.log(`\ninstalling pm2 into ${dir} ...`);
    pm2 = await installPm2(dir);
    console.log(`pm2 ${pm2.version}`);
  }
  for (const target of opts.targets) {
    console.log(`\n=== ${target} ===`);
    runs[target] = await benchTarget(target, opts, pm2);
  }

  const during = upgrades === null ? 'deploys' : 'upgrades';
  for (const run of Object.values(runs)) {
    const f = run.figures;
    console.log(`\n--- ${f.target}: ${f.deploys} ${f.target === 'switchyard' ? during : 'restarts'} in ${f.durationS} s ---`);
    console.log(classTable(f));
    const ws = f.classes.find((c) => c.cls === 'ws')?.goingAway ?? 0;
    if (ws + f.deadlineCuts.length > 0) {
      console.log(
        `closed by switchyard at a drain deadline (the drain contract, not failures): ${ws} WebSocket sessions with 1001 "switchyard: drain deadline"` +
          `, ${f.deadlineCuts.length} SSE streams by an old generation as it reached its deadline and exited (each with its evidence in the results)`,
      );
    }
    for (const line of windowLines(f, f.target === 'switchyard' ? during : 'restarts')) console.log(line);
    if (run.switchyard) for (const line of switchyardLines(run.switchyard)) console.log(line);
    if (run.upgradeRun) for (const line of upgradeRunLines(run.upgradeRun, DRAIN_MS)) console.log(line);
    if (f.failureLog.length > 0) {
      console.log(`first failures${f.target === 'switchyard' ? ' (each one breaks a promise)' : ''}:`);
      for (const line of f.failureLog.slice(0, f.target === 'switchyard' ? 40 : 8)) console.log(`  ${line}`);
    }
  }
  const compared = Object.values(runs).map((r) => ({ figures: r.figures, appsKept: r.appsKept ?? upgradeAppsKept(r) }));
  if (compared.length > 1) console.log(`\n${comparisonTable(compared, upgrades === null ? 'deploys' : 'restarts')}`);

  const path = writeResults(
    {
      startedAt: startedAt.toISOString(),
      command: `npm run bench:zero-downtime -- ${process.argv.slice(2).join(' ')}`.trim(),
      loadAverageAtStart: loadavg(),
      machine,
      options: opts,
      load: { ...MIX_DEFAULTS, getRate: opts.getRate },
      switchyardSettings: SWITCHYARD_SETTINGS,
      pm2: pm2 ? { version: pm2.version, mode: 'cluster', instances: 2, killTimeoutMs: PM2_KILL_TIMEOUT_MS, killSignal: 'SIGTERM', action: upgrades === null ? 'reload' : 'update' } : null,
      targets: runs,
    },
    startedAt,
    opts.out,
  );
  console.log(`\nresults: ${path}`);
  const sy = runs.switchyard;
  const broken =
    sy !== undefined &&
    (sy.figures.failed > 0 ||
      (sy.switchyard?.unexpectedOutcomes ?? 0) > 0 ||
      (sy.switchyard?.neverHealthyAnswers ?? 0) > 0 ||
      (sy.switchyard?.daemonProblems.length ?? 0) > 0 ||
      (sy.upgradeRun?.problems.length ?? 0) > 0 ||
      (sy.upgradeRun !== undefined && sy.upgradeRun.succeeded < (upgrades ?? 0)) ||
      sy.figures.throughputBelowTarget.length > 0);
  if (broken) console.log('switchyard broke a zero-downtime promise (a failure, an unexpected outcome, an upgrade or controller crash that did not keep its promises, a never-healthy answer or throughput below target): see above');
  return broken ? 1 : 0;
}

function benchTarget(target: TargetName, opts: Options, pm2: Pm2Install | undefined): Promise<TargetRun> {
  const upgrades = opts.upgrades;
  switch (target) {
    case 'switchyard':
      return upgrades === null ? benchSwitchyard(opts) : benchUpgrades(opts, upgrades);
    case 'naive':
      return benchNaive(opts);
    case 'restart':
      return benchRestart(opts);
    case 'pm2':
      return benchPm2(opts, pm2!, upgrades === null ? 'reload' : 'update');
  }
}

/** The upgrade run's app processes kept, in the side by side's terms. */
function upgradeAppsKept(run: TargetRun): TargetRun['appsKept'] {
  const u = run.upgradeRun;
  if (u === undefined) return undefined;
  const kept = u.each.reduce((sum, e) => sum + e.appsKept, 0);
  const before = u.each.reduce((sum, e) => sum + e.appsBefore, 0);
  return { restarts: u.upgrades, keptAll: u.appsKeptAll, kept, before };
}

runMain(main);

// `npm run bench:zero-downtime`: the load mix (GETs, 1 MB uploads, slow requests, SSE, WebSockets)
// through switchyard while it runs a cycle of deploys and faults, then the same load against a naive
// stop-then-start restart and PM2 cluster mode with `pm2 reload`; tables on stdout, JSON in bench/results.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeMachine } from '../proxy/machine.js';
import { killAllNow, stopAll } from '../proxy/processes.js';
import { poll } from './admin.js';
import { runScenario, type DeployRecord } from './cycle.js';
import { switchyardFigures, targetFigures, type SwitchyardFigures, type TargetFigures } from './figures.js';
import { MIX_DEFAULTS } from './load/mix.js';
import type { MachineLoad } from './machine-load.js';
import { parseOptions, USAGE, type Options } from './options.js';
import { classTable, comparisonTable, switchyardLines, windowLines, writeResults } from './report.js';
import { describeScenario, schedule } from './scenarios.js';
import { NaiveTarget } from './targets/naive.js';
import { installPm2, Pm2Target, PM2_KILL_TIMEOUT_MS, type Pm2Install } from './targets/pm2.js';
import { startSwitchyard, stopSwitchyard, SWITCHYARD_SETTINGS } from './targets/switchyard.js';
import { underLoad } from './under-load.js';

interface TargetRun {
  figures: TargetFigures;
  switchyard?: SwitchyardFigures;
  deploys: unknown[];
  phases: unknown[];
  perSecond: unknown;
  failures: unknown[];
}

/** Per deployment, at most this long (a 2-instance rolling deploy with 6 s drains takes ~15 s). */
const DEPLOY_BUDGET_MS = 120_000;

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  if (opts.targets.includes('switchyard') && !existsSync(opts.switchyardCli)) throw new Error(`${opts.switchyardCli} is missing: run npm run build first`);
  const startedAt = new Date();
  const machine = describeMachine();
  console.log(`switchyard zero-downtime bench, ${startedAt.toISOString()}`);
  console.log(`${machine.cpuModel} (${machine.cpuCount} CPUs), Linux ${machine.kernel}, node ${machine.node}, switchyard ${machine.switchyard}`);
  const m = MIX_DEFAULTS;
  console.log(
    `load: ${opts.getRate} GET/s on ${m.getWorkers} keep-alive connections, ${m.uploadRate} x ${m.uploadBytes / 1024 / 1024} MB uploads/s, ` +
      `${m.slowWorkers} slow requests (${m.slowMs[0] / 1000}-${m.slowMs[1] / 1000} s), ${m.sseWorkers} SSE streams (${m.sseSeconds[0]}-${m.sseSeconds[1]} s), ` +
      `${m.wsWorkers} WebSocket sessions (${m.wsSessionMs[0] / 1000}-${m.wsSessionMs[1] / 1000} s) at a time`,
  );

  const runs: Record<string, TargetRun> = {};
  let pm2: Pm2Install | undefined;
  if (opts.targets.includes('pm2')) {
    const dir = tempDir('switchyard-bench-pm2-');
    console.log(`\ninstalling pm2 into ${dir} ...`);
    pm2 = await installPm2(dir);
    console.log(`pm2 ${pm2.version}`);
  }
  for (const target of opts.targets) {
    console.log(`\n=== ${target} ===`);
    if (target === 'switchyard') runs[target] = await benchSwitchyard(opts);
    else if (target === 'naive') runs[target] = await benchNaive(opts);
    else if (pm2 !== undefined) runs[target] = await benchPm2(opts, pm2);
  }

  const all = Object.values(runs).map((r) => r.figures);
  for (const run of Object.values(runs)) {
    console.log(`\n--- ${run.figures.target}: ${run.figures.deploys} deploys in ${run.figures.durationS} s ---`);
    console.log(classTable(run.figures));
    for (const line of windowLines(run.figures)) console.log(line);
    if (run.switchyard) for (const line of switchyardLines(run.switchyard)) console.log(line);
    if (run.figures.failureLog.length > 0) {
      console.log(`first failures${run.figures.target === 'switchyard' ? ' (each one breaks a promise)' : ''}:`);
      for (const line of run.figures.failureLog.slice(0, run.figures.target === 'switchyard' ? 40 : 8)) console.log(`  ${line}`);
    }
  }
  if (all.length > 1) console.log(`\n${comparisonTable(all)}`);

  const path = writeResults(
    {
      startedAt: startedAt.toISOString(),
      command: `npm run bench:zero-downtime -- ${process.argv.slice(2).join(' ')}`.trim(),
      loadAverageAtStart: loadavg(),
      machine,
      options: opts,
      load: { ...MIX_DEFAULTS, getRate: opts.getRate },
      switchyardSettings: SWITCHYARD_SETTINGS,
      pm2: pm2 ? { version: pm2.version, mode: 'cluster', instances: 2, killTimeoutMs: PM2_KILL_TIMEOUT_MS, killSignal: 'SIGTERM' } : null,
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
      sy.figures.throughputBelowTarget.length > 0);
  if (broken) console.log('switchyard broke a zero-downtime promise (a failure, an unexpected outcome, a never-healthy answer or throughput below target): see above');
  return broken ? 1 : 0;
}

async function benchSwitchyard(opts: Options): Promise<TargetRun> {
  const target = await startSwitchyard(opts.switchyardCli, tempDir('switchyard-bench-zd-'));
  const cleanup = track(() => stopSwitchyard(target.proc));
  try {
    const scenarios = schedule(opts.deploys);
    const { load, result: records, machine } = await underLoad(
      target.url,
      { ...opts, deployBudgetMs: scenarios.length * DEPLOY_BUDGET_MS },
      async (load) => {
        const records: DeployRecord[] = [];
        const ctx = { admin: target.admin, now: () => load.rec.now(), startedAt: load.rec.startedAt };
        for (const s of scenarios) {
          if (stopping()) break;
          load.phases.enter('deploy', describeScenario(s));
          const record = await runScenario(ctx, s, records.at(-1));
          records.push(record);
          load.phases.enter('between', `after ${record.label}`);
          const mark = record.outcome === record.expect ? '' : `  <-- expected ${record.expect}`;
          console.log(`${record.label}: ${record.outcome} in ${((record.endMs - record.startMs) / 1000).toFixed(1)} s (failures so far, SIGKILL casualties included: ${failedSoFar(load)})${mark}`);
          for (const note of record.notes) console.log(`  note: ${note}`);
        }
        return records;
      },
      // The blue-green standby fleet retires on a timer; the second steady window starts after it.
      () => poll(async () => ((await target.admin.service('web')).standby === null ? true : undefined), 'the standby fleet to retire', 60_000, 200).then(() => undefined),
    );
    return {
      figures: targetFigures('switchyard', load.rec, load.phases.phases, records, records.length, machine),
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

async function benchNaive(opts: Options): Promise<TargetRun> {
  const app = await NaiveTarget.start('v1');
  const cleanup = track(() => app.close());
  try {
    const { load, machine } = await underLoad(app.url, { ...opts, deployBudgetMs: opts.compareDeploys * DEPLOY_BUDGET_MS }, (load) =>
      baselineDeploys(load, opts.compareDeploys, 'naive restart', (version) => app.restart(version)),
    );
    return baselineRun('naive', load, opts.compareDeploys, machine);
  } finally {
    await cleanup();
  }
}

async function benchPm2(opts: Options, pm2: Pm2Install): Promise<TargetRun> {
  const target = await Pm2Target.start(pm2, tempDir('switchyard-bench-pm2-run-'), 'v1');
  killers.push(() => target.killNow());
  const cleanup = track(() => target.close());
  try {
    await poll(async () => ((await fetch(`${target.url}/healthz`)).status === 200 ? true : undefined), 'PM2 app to answer', 30_000);
    const { load, machine } = await underLoad(target.url, { ...opts, deployBudgetMs: opts.compareDeploys * DEPLOY_BUDGET_MS, ours: () => target.pids() }, (load) =>
      baselineDeploys(load, opts.compareDeploys, 'pm2 reload', (version) => target.reload(version)),
    );
    return baselineRun('pm2', load, opts.compareDeploys, machine);
  } finally {
    await cleanup();
  }
}

type Load = Parameters<Parameters<typeof underLoad>[2]>[0];

async function baselineDeploys(load: Load, count: number, what: string, deploy: (version: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < count && !stopping(); i++) {
    const version = `v${i + 2}`;
    load.phases.enter('deploy', `${what} ${i + 1}: ${version}`);
    const started = Date.now();
    await deploy(version);
    load.phases.enter('between', `after ${what} ${i + 1}`);
    console.log(`${what} ${i + 1}/${count} to ${version}: done in ${((Date.now() - started) / 1000).toFixed(1)} s (failures so far, SIGKILL casualties included: ${failedSoFar(load)})`);
  }
}

function failedSoFar(load: Load): number {
  return [...load.rec.totals.values()].reduce((sum, t) => sum + Object.values(t.failed).reduce((a, b) => a + b, 0), 0);
}

function baselineRun(name: string, load: Load, deploys: number, machine: MachineLoad): TargetRun {
  return {
    figures: targetFigures(name, load.rec, load.phases.phases, [], deploys, machine),
    deploys: load.phases.phases.filter((p) => p.phase === 'deploy'),
    phases: load.phases.phases,
    perSecond: { ...load.rec.perSecond, failed: load.rec.failedPerSecond, othersCpu: machine.foreign },
    failures: load.rec.failures.slice(0, 2000),
  };
}

// Every exit path ends the children by PID: normal return, a thrown error, Ctrl-C or SIGTERM.
const tempDirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
const killers: (() => void)[] = [];
let exitCode: number | undefined;
let stopped: Promise<void> | undefined;
/** True once Ctrl-C, SIGTERM or the end began the shutdown: no new deploys start. */
const stopping = (): boolean => exitCode !== undefined;

/** Registers a clean-up for every exit path; the returned function runs it once and unregisters it. */
function track(cleanup: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = (): Promise<void> =>
    (done ??= cleanup().finally(() => {
      const at = cleanups.indexOf(once);
      if (at >= 0) cleanups.splice(at, 1);
    }));
  cleanups.push(once);
  return once;
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

async function shutdown(code: number): Promise<never> {
  exitCode ??= code;
  stopped ??= (async () => {
    for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => undefined);
    await stopAll();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  })();
  await stopped;
  process.exit(exitCode);
}
process.on('exit', () => {
  killAllNow();
  for (const kill of killers) kill();
});
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping child processes`);
    void shutdown(code);
  });
}

main().then(
  (code) => shutdown(code),
  (err: unknown) => {
    if (exitCode === undefined) console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    return shutdown(1);
  },
);

// `npm run bench:proxy`: direct vs switchyard vs nginx vs haproxy in front of one backend, measured
// in interleaved rounds on the same machine, with each proxy's CPU cost per request.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOCK_TICKS } from './cpu.js';
import { pickLoadTool, runLoad } from './load.js';
import { describeMachine, formatMachine } from './machine.js';
import { LOAD_CPU, PROXY_CPU, loadSpec, measure, rotate, type Bench } from './measure.js';
import { parseOptions, USAGE } from './options.js';
import { canPin, killAllNow, stopAll } from './processes.js';
import { formatHotFunctions, profilesIn, topSelfTimeOfFile, type HotFunction } from './profile.js';
import { formatHalf, formatTable, formatWarnings, summarize, summarizeHalf, writeResults, type HalfCapacity, type Run } from './report.js';
import { startBackend, startTarget, stopTarget, unavailableReason, type Running, type TargetName } from './targets.js';

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const startedAt = new Date();
  const machine = describeMachine();
  console.log(`switchyard proxy bench, ${startedAt.toISOString()}\n${formatMachine(machine)}`);

  const tool = pickLoadTool(opts.loadTool);
  if (tool === undefined) {
    throw new Error(`no load generator${opts.loadTool ? ` (${opts.loadTool})` : ''}: install wrk (apt-get install -y wrk) or run npm ci for autocannon`);
  }
  if (tool === 'autocannon') console.log('note: load from autocannon, whose latencies have 1 ms resolution; wrk is better');
  if (opts.profile) console.log('note: --profile is on, so switchyard\'s numbers include the profiler\'s overhead');
  const pinned = canPin() && machine.cpuCount >= 2;
  if (!pinned) console.log('note: not pinning to CPUs (needs taskset and at least 2 CPUs); numbers will be noisier');

  const skipped: { target: TargetName; reason: string }[] = [];
  const wanted = opts.targets.filter((name) => {
    const reason = unavailableReason(name, opts.switchyardCli);
    if (reason !== undefined) {
      console.log(`${name}: ${reason}; skipped`);
      skipped.push({ target: name, reason });
    }
    return reason === undefined;
  });

  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  tempDirs.push(dir);
  // Kept outside `dir` (which is removed) so the profile can still be opened in DevTools afterwards.
  const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), 'switchyard-profile-')) : undefined;
  const bench: Bench = { opts, tool, dir, pinned };
  const cpu = (which: number): number | undefined => (pinned ? which : undefined);

  const backend = await startBackend(cpu(LOAD_CPU));
  const running: Running[] = [];
  for (const name of wanted) {
    try {
      running.push(await startTarget(name, { dir, backendPort: backend.port, proxyCpu: cpu(PROXY_CPU), switchyardCli: opts.switchyardCli, profileDir }));
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      console.log(`${name}: failed to start; skipped\n${detail.replace(/^/gm, '  | ')}`);
      skipped.push({ target: name, reason: `failed to start: ${detail}` });
    }
  }
  if (running.length === 0) throw new Error('nothing to measure');

  console.log(
    `\n${tool}, ${opts.connections} connections${tool === 'wrk' ? `, ${opts.threads} threads` : ''}, ` +
      `${opts.durationS} s runs, ${opts.rounds} round(s), ${opts.warmupS} s warm-up; targets: ${running.map((t) => t.name).join(', ')}`,
  );
  if (opts.warmupS > 0) {
    for (const target of running) await runLoad(tool, loadSpec(bench, target, opts.warmupS, undefined));
  }

  const runs: Run[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    for (const target of rotate(running, round)) {
      const run = await measure(bench, target, round, undefined);
      runs.push(run);
      const cpuNote = run.cpuUsPerRequest === null ? '' : `, ${run.cpuUsPerRequest.toFixed(1)} µs CPU/req`;
      console.log(`  round ${round + 1} ${target.name.padEnd(10)} ${Math.round(run.rps)} rps, p99 ${run.p99Ms.toFixed(2)} ms${cpuNote}`);
    }
  }
  const summary = summarize(runs, running.map((t) => t.name));

  let half: HalfCapacity | undefined;
  const direct = running.find((t) => t.name === 'direct');
  const switchyard = running.find((t) => t.name === 'switchyard');
  const switchyardMax = summary.find((s) => s.target === 'switchyard')?.rps;
  if (direct && switchyard && switchyardMax !== undefined && switchyardMax >= 2) {
    const rate = switchyardMax / 2;
    const halfRuns: Run[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      for (const target of rotate([direct, switchyard], round)) halfRuns.push(await measure(bench, target, round, rate));
    }
    half = summarizeHalf(rate, halfRuns);
  }

  // Stopping switchyard before reading profiles: node writes the .cpuprofile as it exits.
  for (const target of running) await stopTarget(target);
  const profile = profileDir === undefined ? undefined : readProfile(profileDir);

  console.log(`\n${formatTable(summary)}`);
  if (half) console.log(`\n${formatHalf(half)}`);
  else console.log('\nlatency at half capacity: skipped (needs both direct and switchyard)');
  for (const warning of formatWarnings([...runs, ...(half?.runs ?? [])])) console.log(warning);
  if (profile) {
    console.log(`\nswitchyard CPU profile (${profile.file ?? 'none written'}): top ${profile.top.length} by self time`);
    if (profile.top.length > 0) console.log(formatHotFunctions(profile.top));
  }

  const path = writeResults(
    {
      startedAt: startedAt.toISOString(),
      // Other work on the machine skews everything; this says how busy it was when the bench began.
      loadAverageAtStart: loadavg(),
      options: opts,
      machine,
      loadTool: tool,
      cpuPinning: pinned ? { backendAndLoad: LOAD_CPU, proxy: PROXY_CPU } : null,
      clockTicksPerSecond: CLOCK_TICKS,
      skipped,
      summary,
      halfCapacity: half ?? null,
      runs,
      profile: profile ?? null,
    },
    startedAt,
  );
  console.log(`\nresults: ${path}`);
  return 0;
}

function readProfile(dir: string): { file: string | undefined; top: HotFunction[] } {
  const file = profilesIn(dir)[0];
  if (file === undefined) {
    console.log(`no .cpuprofile in ${dir}: switchyard must exit cleanly on SIGTERM for node to write one`);
    return { file: undefined, top: [] };
  }
  return { file, top: topSelfTimeOfFile(file, 25) };
}

// Every exit path ends the children by PID: normal return, a thrown error, Ctrl-C or SIGTERM.
// The first reason to stop decides the exit code; later ones wait for the same clean-up.
let exitCode: number | undefined;
let stopped: Promise<void> | undefined;
/** Configs, logs and state of this run; removed on every exit path once the children are gone. */
const tempDirs: string[] = [];
async function shutdown(code: number): Promise<never> {
  exitCode ??= code;
  stopped ??= stopAll().then(() => {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  await stopped;
  process.exit(exitCode);
}
process.on('exit', killAllNow);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping child processes`);
    void shutdown(code);
  });
}

main().then(
  (code) => shutdown(code),
  (err: unknown) => {
    // After Ctrl-C the interrupted load run fails too; that is expected, not news.
    if (exitCode === undefined) console.error(err instanceof Error ? err.message : err);
    return shutdown(1);
  },
);

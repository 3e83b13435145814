// `npm run bench:proxy`: direct vs switchyard vs nginx vs haproxy in front of one backend, measured
// in interleaved rounds on the same machine, with each proxy's CPU cost per request.
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMain, tempDir } from '../lifecycle.js';
import { CLOCK_TICKS } from './cpu.js';
import { pickLoadTool, runLoad } from './load.js';
import { describeMachine, formatMachine } from './machine.js';
import { LOAD_CPU, PROXY_CPU, loadSpec, measure, rotate, type Bench } from './measure.js';
import { parseOptions, USAGE } from './options.js';
import { canPin } from './processes.js';
import { formatMemory, measureMemory, type MemoryFigure } from './memory.js';
import { formatHotFunctions, profilesIn, topSelfTimeOfFile, type HotFunction } from './profile.js';
import { formatFixedRate, formatSwitchyardDetail, formatTable, formatWarnings, summarize, writeResults, type Run, type TargetSummary } from './report.js';
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

  const dir = tempDir('switchyard-bench-');
  // Kept outside `dir` (which is removed) so the profile can still be opened in DevTools afterwards.
  const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), 'switchyard-profile-')) : undefined;
  const bench: Bench = { opts, tool, dir, pinned };
  const cpu = (which: number): number | undefined => (pinned ? which : undefined);

  const backend = await startBackend(cpu(LOAD_CPU));
  const running: Running[] = [];
  for (const name of wanted) {
    try {
      running.push(
        await startTarget(name, { dir, backendPort: backend.port, proxyCpu: cpu(PROXY_CPU), switchyardCli: opts.switchyardCli, profileDir, accessLog: opts.accessLog }),
      );
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      console.log(`${name}: failed to start; skipped\n${detail.replace(/^/gm, '  | ')}`);
      skipped.push({ target: name, reason: `failed to start: ${detail}` });
    }
  }
  if (running.length === 0) throw new Error('nothing to measure');

  console.log(
    `\n${tool}, ${opts.connections} connections${tool === 'wrk' ? `, ${opts.threads} threads` : ''}, ` +
      `${opts.durationS} s runs, ${opts.rounds} round(s), ${opts.warmupS} s warm-up, access logs ${opts.accessLog}; ` +
      `targets: ${running.map((t) => t.name).join(', ')}`,
  );
  if (opts.warmupS > 0) {
    for (const target of running) await runLoad(tool, loadSpec(bench, target, opts.warmupS, undefined));
  }

  const runs: Run[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    for (const target of rotate(running, round)) {
      const run = await measure(bench, target, round, undefined);
      runs.push(run);
      console.log(`  round ${round + 1} ${target.name.padEnd(13)} ${describeRun(run)}`);
    }
  }
  const order = running.map((t) => t.name);
  const summary = summarize(runs, order);

  // Every target at one rate: CPU per request at equal work, latency at the same load (invariant of the
  // comparison: nobody is measured at its own saturation point).
  let fixed: { rate: number; runs: Run[]; summary: TargetSummary[] } | undefined;
  const switchyardMax = summary.find((s) => s.target === 'switchyard')?.rps;
  const rate = opts.rate ?? (switchyardMax === undefined ? undefined : switchyardMax / 2);
  if (rate !== undefined && rate >= 2) {
    console.log(`\nfixed rate: ${Math.round(rate)} rps for every target`);
    const fixedRuns: Run[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      for (const target of rotate(running, round)) {
        const run = await measure(bench, target, round, rate);
        fixedRuns.push(run);
        console.log(`  round ${round + 1} ${target.name.padEnd(13)} ${describeRun(run)}`);
      }
    }
    fixed = { rate, runs: fixedRuns, summary: summarize(fixedRuns, order) };
  }

  const memory: MemoryFigure[] = [];
  if (opts.idleClients > 0) {
    // HAProxy's connection cap stays under the descriptor limit (configs.ts): its figure would be cut short.
    for (const target of running.filter((t) => t.name !== 'haproxy')) {
      const figure = await measureMemory(target, opts.idleClients);
      if (figure !== undefined) memory.push(figure);
    }
  }

  // Stopping switchyard before reading profiles: node writes the .cpuprofile as it exits.
  for (const target of running) await stopTarget(target);
  const profile = profileDir === undefined ? undefined : readProfiles(profileDir);

  console.log(`\nat full load (wrk as fast as each target answers):\n${formatTable(summary)}`);
  for (const line of formatSwitchyardDetail('at full load', summary)) console.log(line);
  if (fixed) {
    console.log(`\n${formatFixedRate(fixed.rate, fixed.summary)}`);
    for (const line of formatSwitchyardDetail(`at ${Math.round(fixed.rate)} rps`, fixed.summary)) console.log(line);
  } else console.log('\nfixed-rate runs: skipped (needs switchyard among the targets, or --rate)');
  if (memory.length > 0) console.log(`\nmemory (resident set of each proxy's process tree):\n${formatMemory(memory).join('\n')}`);
  for (const warning of formatWarnings([...runs, ...(fixed?.runs ?? [])])) console.log(warning);
  for (const p of profile ?? []) {
    console.log(`\nCPU profile ${p.file}: top ${p.top.length} by self time`);
    if (p.top.length > 0) console.log(formatHotFunctions(p.top));
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
      fixedRate: fixed ?? null,
      memory,
      runs,
      profile: profile ?? null,
    },
    startedAt,
  );
  console.log(`\nresults: ${path}`);
  return 0;
}

function describeRun(run: Run): string {
  const cpu = run.cpuUsPerRequest === null ? '' : `, ${run.cpuUsPerRequest.toFixed(1)} µs CPU/req, ${(100 * (run.cpuUtilisation ?? 0)).toFixed(0)}% CPU`;
  const loop = run.loop === null ? '' : `, loop p99 ≤ ${run.loop.delayP99Ms} ms, GC ${run.loop.gcTotalMs.toFixed(0)} ms`;
  return `${Math.round(run.rps)} rps, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms${cpu}${loop}`;
}

/** Every .cpuprofile switchyard's processes wrote (keeper, controller and each worker write their own). */
function readProfiles(dir: string): { file: string; top: HotFunction[] }[] {
  const files = profilesIn(dir);
  if (files.length === 0) console.log(`no .cpuprofile in ${dir}: switchyard must exit cleanly on SIGTERM for node to write one`);
  // The busiest profile first: that is the proxy worker's.
  return files
    .map((file) => ({ file, top: topSelfTimeOfFile(file, 25) }))
    .sort((a, b) => b.top.reduce((sum, h) => sum + h.selfMs, 0) - a.top.reduce((sum, h) => sum + h.selfMs, 0))
    .slice(0, 2);
}

runMain(main);

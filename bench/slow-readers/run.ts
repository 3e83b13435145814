// `npm run bench:slow-readers`: how long a normal request waits while many clients download slowly
// (issue 12, point 7). slowhttptest -X opens connections that pipeline requests for a 256 KB answer and
// read it a few bytes at a time through a tiny TCP window; meanwhile a probe sends a plain GET every
// 50 ms on a fresh connection and times it. Switchyard and nginx, one after the other, each pinned to the
// proxy CPU in front of the same backend (bench/proxy/backend.ts), as in bench:proxy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hasSlowhttptest, Probe, runSlowhttptest, type ProbeResult } from '../../test/helpers/hostile.js';
import { runMain, tempDir } from '../lifecycle.js';
import { cpuSeconds } from '../proxy/cpu.js';
import { describeMachine, formatMachine } from '../proxy/machine.js';
import { LOAD_CPU, PROXY_CPU } from '../proxy/measure.js';
import { canPin } from '../proxy/processes.js';
import { startBackend, startTarget, stopTarget, unavailableReason, type TargetName } from '../proxy/targets.js';
import { percentile } from '../zero-downtime/stats.js';

const USAGE = `usage: npm run bench:slow-readers -- [--connections N] [--duration S] [--targets switchyard,nginx]
  --connections  slow-reading connections slowhttptest opens (default 1000)
  --duration     seconds of attack per target (default 20)
  --targets      comma-separated, from switchyard, switchyard-2w, nginx, haproxy (default switchyard,nginx)`;

/** A probe that gets no answer within this long counts as failed. */
const PROBE_TIMEOUT_MS = 10_000;

interface TargetFigure {
  target: TargetName;
  probes: number;
  failed: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** The proxy's CPU (whole process tree) over the attack, in % of one core. */
  cpuPercent: number;
  slowhttptest: string;
}

function times(results: readonly ProbeResult[]): { p50: number | null; p99: number | null; max: number | null } {
  const ms = results.map((r) => r.ms);
  return { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), max: percentile(ms, 1) };
}

const shown = (ms: number | null): string => (ms === null ? '-' : `${ms} ms`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { connections: { type: 'string' }, duration: { type: 'string' }, targets: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const connections = Number(values.connections ?? 1000);
  const durationS = Number(values.duration ?? 20);
  if (!Number.isInteger(connections) || connections < 1 || !Number.isInteger(durationS) || durationS < 1) throw new Error(`bad --connections or --duration\n${USAGE}`);
  const targets = (values.targets ?? 'switchyard,nginx').split(',') as TargetName[];
  if (!hasSlowhttptest()) throw new Error('slowhttptest is not installed (apt-get install -y slowhttptest)');
  const switchyardCli = resolve(import.meta.dirname, '../../dist/cli/main.js');

  const startedAt = new Date();
  console.log(`switchyard slow-readers bench, ${startedAt.toISOString()}\n${formatMachine(describeMachine())}`);
  console.log(`attack: slowhttptest -X, ${connections} connections, 3 pipelined GET /big (256 KB each), read 8 bytes per second through a 1-16 byte window, ${durationS} s`);
  const pinned = canPin();
  const dir = tempDir('switchyard-slow-readers-');
  const figures: TargetFigure[] = [];
  const backend = await startBackend(pinned ? LOAD_CPU : undefined);
  for (const name of targets) {
    const reason = unavailableReason(name, switchyardCli);
    if (reason !== undefined) {
      console.log(`${name}: ${reason}; skipped`);
      continue;
    }
    const targetDir = join(dir, name);
    mkdirSync(targetDir, { recursive: true });
    const target = await startTarget(name, { dir: targetDir, backendPort: backend.port, proxyCpu: pinned ? PROXY_CPU : undefined, switchyardCli, profileDir: undefined, accessLog: 'off' });
    try {
      const probe = (maxDurationMs: number) => Probe.start(target.url, { intervalMs: 50, timeoutMs: PROBE_TIMEOUT_MS, maxDurationMs });
      const quiet = probe(2000);
      await new Promise((wake) => setTimeout(wake, 2000));
      const before = times(await quiet.stop());
      const cpuBefore = cpuSeconds(target.proc!.pid);
      const wallStart = performance.now();
      // -r: connections opened per second; -p: slowhttptest's own availability probe timeout.
      const args = ['-X', '-c', String(connections), '-r', String(Math.min(connections, 500)), '-l', String(durationS), '-k', '3', '-n', '1', '-w', '1', '-y', '16', '-z', '8', '-p', '3', '-u', `${target.url}big`];
      const attacked = probe((durationS + 60) * 1000);
      const run = await runSlowhttptest(args, (durationS + 60) * 1000, pinned ? LOAD_CPU : undefined);
      const results = await attacked.stop();
      const cpuPercent = (100 * (cpuSeconds(target.proc!.pid) - cpuBefore)) / ((performance.now() - wallStart) / 1000);
      const under = times(results);
      const exit = /Exit status:\s*(.+)/.exec(run.output)?.[1]?.trim() ?? 'no exit status';
      const figure: TargetFigure = {
        target: name,
        probes: results.length,
        failed: results.filter((r) => r.status !== 200).length,
        p50Ms: under.p50,
        p99Ms: under.p99,
        maxMs: under.max,
        cpuPercent,
        slowhttptest: `${exit}; its own probe: service available ${[...new Set(run.availability)].join('/') || '?'}`,
      };
      figures.push(figure);
      console.log(
        `${name.padEnd(13)} before: p50 ${shown(before.p50)}; under attack: ${figure.probes} probes, ${figure.failed} failed, p50 ${shown(figure.p50Ms)}, p99 ${shown(figure.p99Ms)}, max ${shown(figure.maxMs)}, proxy CPU ${figure.cpuPercent.toFixed(0)}%; slowhttptest: ${figure.slowhttptest}`,
      );
    } finally {
      await stopTarget(target);
    }
  }
  const file = resolve(import.meta.dirname, `../results/slow-readers-${startedAt.toISOString().replaceAll(':', '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt, loadavg: loadavg(), connections, durationS, figures }, null, 2)}\n`);
  console.log(`\nresults: ${file.slice(file.indexOf('bench/'))}`);
  return figures.length > 0 && figures.every((f) => f.failed === 0) ? 0 : 1;
}

runMain(main);

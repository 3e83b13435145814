// `npm run bench:slow-readers`: how long a normal request waits while many clients download slowly
// (issue 12, point 7). slowhttptest -X opens connections that pipeline requests for a 256 KB answer and
// read it a few bytes at a time through a tiny TCP window; meanwhile a probe sends a plain GET every
// 50 ms on a fresh connection and times it. Switchyard and nginx, one after the other, each pinned to the
// proxy CPU in front of the same backend (bench/proxy/backend.ts), as in bench:proxy.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from '../proxy/cpu.js';
import { describeMachine, formatMachine } from '../proxy/machine.js';
import { LOAD_CPU, PROXY_CPU } from '../proxy/measure.js';
import { canPin, isInstalled, killAllNow, stopAll } from '../proxy/processes.js';
import { startBackend, startTarget, stopTarget, unavailableReason, type TargetName } from '../proxy/targets.js';

const USAGE = `usage: npm run bench:slow-readers -- [--connections N] [--duration S] [--targets switchyard,nginx]
  --connections  slow-reading connections slowhttptest opens (default 1000)
  --duration     seconds of attack per target (default 20)
  --targets      comma-separated, from switchyard, switchyard-2w, nginx, haproxy (default switchyard,nginx)`;

const PROBE_EVERY_MS = 50;
/** A probe that gets no answer within this long counts as failed. */
const PROBE_TIMEOUT_MS = 10_000;

interface ProbeResult {
  ms: number;
  ok: boolean;
}

interface TargetFigure {
  target: TargetName;
  probes: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The proxy's CPU (whole process tree) over the attack, in % of one core. */
  cpuPercent: number;
  slowhttptest: string;
}

function probeOnce(url: string): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((done) => {
    const finish = (ok: boolean) => done({ ms: performance.now() - started, ok });
    // A fresh connection each time: a new visitor, not one already kept alive.
    const req = request(url, { agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.once('end', () => finish(res.statusCode === 200));
      res.once('error', () => finish(false));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => finish(false));
    req.end();
  });
}

/** Probes `url` until `until` resolves; one request at a time, PROBE_EVERY_MS apart. */
async function probeWhile(url: string, until: Promise<unknown>): Promise<ProbeResult[]> {
  let over = false;
  void until.finally(() => (over = true));
  const results: ProbeResult[] = [];
  while (!over) {
    results.push(await probeOnce(url));
    await new Promise((wake) => setTimeout(wake, PROBE_EVERY_MS));
  }
  return results;
}

/** Runs slowhttptest (pinned with the load when it can be) to its end, bounded by its own -l plus slack. */
function slowhttptest(args: string[], pinned: boolean, limitMs: number, cwd: string): Promise<string> {
  const [file, argv] = pinned ? ['taskset', ['-c', String(LOAD_CPU), 'slowhttptest', ...args]] : ['slowhttptest', args];
  return new Promise((done, fail) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', fail);
    child.once('close', () => {
      clearTimeout(timer);
      // eslint-disable-next-line no-control-regex
      done(output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
    });
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(output: string): string {
  const exit = /Exit status:\s*(.+)/.exec(output)?.[1]?.trim() ?? 'no exit status';
  const available = [...new Set([...output.matchAll(/service available:\s*(\S+)/gi)].map((m) => m[1]!))].join('/');
  return `${exit}; its own probe: service available ${available || '?'}`;
}

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
  if (!isInstalled('slowhttptest')) throw new Error('slowhttptest is not installed (apt-get install -y slowhttptest)');
  const switchyardCli = resolve(import.meta.dirname, '../../dist/cli/main.js');

  const startedAt = new Date();
  console.log(`switchyard slow-readers bench, ${startedAt.toISOString()}\n${formatMachine(describeMachine())}`);
  console.log(`attack: slowhttptest -X, ${connections} connections, 3 pipelined GET /big (256 KB each), read 8 bytes per second through a 1-16 byte window, ${durationS} s`);
  const pinned = canPin();
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-slow-readers-'));
  const figures: TargetFigure[] = [];
  try {
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
        const quiet = await probeWhile(target.url, new Promise((wake) => setTimeout(wake, 2000)));
        const cpuBefore = cpuSeconds(target.proc!.pid);
        const wallStart = performance.now();
        // -r: connections opened per second; -p: slowhttptest's own availability probe timeout.
        const args = ['-X', '-c', String(connections), '-r', String(Math.min(connections, 500)), '-l', String(durationS), '-k', '3', '-n', '1', '-w', '1', '-y', '16', '-z', '8', '-p', '3', '-u', `${target.url}big`];
        const attack = slowhttptest(args, pinned, (durationS + 60) * 1000, targetDir);
        const probes = await probeWhile(target.url, attack);
        const output = await attack;
        const cpuPercent = (100 * (cpuSeconds(target.proc!.pid) - cpuBefore)) / ((performance.now() - wallStart) / 1000);
        const times = probes.map((p) => p.ms).sort((a, b) => a - b);
        const figure: TargetFigure = {
          target: name,
          probes: probes.length,
          failed: probes.filter((p) => !p.ok).length,
          p50Ms: percentile(times, 50),
          p99Ms: percentile(times, 99),
          maxMs: times.at(-1) ?? 0,
          cpuPercent,
          slowhttptest: summary(output),
        };
        figures.push(figure);
        const before = quiet.map((p) => p.ms).sort((a, b) => a - b);
        console.log(`${name.padEnd(13)} before: p50 ${percentile(before, 50).toFixed(2)} ms; under attack: ${figure.probes} probes, ${figure.failed} failed, p50 ${figure.p50Ms.toFixed(2)} ms, p99 ${figure.p99Ms.toFixed(2)} ms, max ${figure.maxMs.toFixed(2)} ms, proxy CPU ${figure.cpuPercent.toFixed(0)}%; slowhttptest: ${figure.slowhttptest}`);
      } finally {
        await stopTarget(target);
      }
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const file = resolve(import.meta.dirname, `../results/slow-readers-${startedAt.toISOString().replaceAll(':', '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt, loadavg: loadavg(), connections, durationS, figures }, null, 2)}\n`);
  console.log(`\nresults: ${file.slice(file.indexOf('bench/'))}`);
  return figures.length > 0 && figures.every((f) => f.failed === 0) ? 0 : 1;
}

process.once('SIGINT', () => {
  killAllNow();
  process.exit(130);
});
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    killAllNow();
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

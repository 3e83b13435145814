// One measured load window: the load generator's numbers plus the proxy's CPU time from /proc (its whole
// process tree, switchyard's workers apart), how much else ran on the proxy's core meanwhile, and for
// switchyard what its own /metrics say of event-loop delay and GC pauses over the window.
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuBusyTicks, cpuByRole, CLOCK_TICKS } from './cpu.js';
import { runLoad, type LoadSpec, type LoadTool } from './load.js';
import type { BenchOptions } from './options.js';
import type { Run } from './report.js';
import { loopWindow, scrapeLoop, type LoopSnapshot } from './switchyard-metrics.js';
import type { Running } from './targets.js';

// Backend and load generator share CPU 0, every proxy gets CPU 1 to itself (the machine has 2 cores).
export const LOAD_CPU = 0;
export const PROXY_CPU = 1;

/** Workers ship their observations once a second: wait this long for the window's last one. */
const SHIPMENT_LAG_MS = 1200;

export interface Bench {
  opts: BenchOptions;
  tool: LoadTool;
  /** Where wrk's Lua scripts go. */
  dir: string;
  pinned: boolean;
}

/** Runs one load window against `target` (paced at `rate` when given) and measures the proxy around it. */
export async function measure(bench: Bench, target: Running, round: number, rate: number | undefined): Promise<Run> {
  const pid = target.proc?.pid;
  const loopBefore = await scrape(target);
  const before = pid === undefined ? undefined : cpuByRole(pid);
  const coreBefore = bench.pinned ? cpuBusyTicks(PROXY_CPU) : undefined;
  const startedMs = performance.now();
  const result = await runLoad(bench.tool, loadSpec(bench, target, bench.opts.durationS, rate));
  const after = pid === undefined ? undefined : cpuByRole(pid);
  const coreAfter = bench.pinned ? cpuBusyTicks(PROXY_CPU) : undefined;
  const wallS = (performance.now() - startedMs) / 1000;
  const used = before && after ? after.main + after.controller + after.worker - (before.main + before.controller + before.worker) : null;
  const workerUsed = before && after && target.adminUrl !== undefined ? after.worker - before.worker : null;
  let loop = null;
  if (loopBefore !== undefined) {
    await sleep(SHIPMENT_LAG_MS);
    const loopAfter = await scrape(target);
    if (loopAfter !== undefined) loop = loopWindow(loopBefore, loopAfter);
  }
  // Whatever else kept the proxy's core busy (other jobs on a shared machine) skews this run.
  const foreign =
    coreBefore === undefined || coreAfter === undefined
      ? null
      : Math.min(1, Math.max(0, (coreAfter - coreBefore) / CLOCK_TICKS - (used ?? 0)) / wallS);
  return {
    round,
    target: target.name,
    offeredRate: rate ?? null,
    ...result,
    cpuSeconds: used,
    cpuUsPerRequest: used === null || result.requests === 0 ? null : (used * 1e6) / result.requests,
    cpuUtilisation: used === null ? null : used / result.durationS,
    workerCpuSeconds: workerUsed,
    loop,
    proxyCoreForeignShare: foreign,
  };
}

async function scrape(target: Running): Promise<LoopSnapshot | undefined> {
  if (target.adminUrl === undefined) return undefined;
  try {
    return await scrapeLoop(target.adminUrl);
  } catch {
    return undefined;
  }
}

export function loadSpec(bench: Bench, target: Running, durationS: number, rate: number | undefined): LoadSpec {
  const { connections, threads } = bench.opts;
  return { url: target.url, durationS, connections, threads, rate, cpu: bench.pinned ? LOAD_CPU : undefined, dir: bench.dir };
}

/** Round r starts at a different target, so slow drift (thermal, noisy neighbours) is spread over all. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

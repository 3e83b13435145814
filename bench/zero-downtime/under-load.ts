// One target's measured run: the load mix starts, warms up, holds a steady window, the deploys run,
// the load holds a second steady window, and then stops (waiting for what is still in flight).
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadMix, MIX_DEFAULTS } from './load/mix.js';
import { MachineLoad } from './machine-load.js';

export interface WindowOptions {
  warmupS: number;
  steadyS: number;
  getRate: number;
  /** Upper bound for the deploys; the load stops by itself after warm-up + steady windows + this. */
  deployBudgetMs: number;
  /** Root PIDs of the target's processes that are not children of the bench (PM2's daemon). */
  ours?: () => number[];
}

/**
 * Runs `deploys` under the load mix against `url`; `settle` runs after them (unmeasured) so the
 * second steady window starts from a quiet system.
 */
export async function underLoad<T>(url: string, o: WindowOptions, deploys: (load: LoadMix) => Promise<T>, settle?: () => Promise<void>): Promise<{ load: LoadMix; result: T; machine: MachineLoad }> {
  const maxDurationMs = (o.warmupS + 2 * o.steadyS) * 1000 + o.deployBudgetMs + 120_000;
  const load = LoadMix.start(url, { ...MIX_DEFAULTS, getRate: o.getRate, maxDurationMs });
  const machine = new MachineLoad(load.rec.startedAt, o.ours);
  try {
    // The windows are the load's own pacing: measured stretches of time with nothing else going on.
    await sleep(o.warmupS * 1000);
    load.phases.enter('steady', 'steady state before the deploys');
    await sleep(o.steadyS * 1000);
    const result = await deploys(load);
    load.phases.enter('between', 'settling after the last deploy');
    await settle?.();
    load.phases.enter('steady', 'steady state after the deploys');
    await sleep(o.steadyS * 1000);
    load.phases.enter('drain', 'requests in flight at the end');
    return { load, result, machine };
  } finally {
    await load.stop();
    machine.stop();
  }
}

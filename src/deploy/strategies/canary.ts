// Canary: a few target instances get a growing share of traffic, step by step, each step watched by
// the analysis; on success the target scales to full size and takes all traffic, then stable stops.
// With `finalize: blue-green` the old fleet also stays on standby for an instant rollback.
import type { AnalysisConfig } from '../../config/index.js';
import type { Step } from '../steps.js';
import type { PlanInput } from './plan-input.js';

export function planCanary(input: PlanInput): Step[] {
  const { canary, analysis } = input.deploy;
  const full = input.targetCount;
  const steps: Step[] = [{ kind: 'hook', hook: 'preDeploy' }];
  let running = 0;
  let weight = 0;
  for (const step of canary.steps) {
    if (step.weight !== null) {
      weight = step.weight;
      const wanted = canary.instances === 'proportional' ? Math.max(1, Math.ceil((full * weight) / 100)) : Math.min(full, canary.instances);
      if (wanted > running) {
        steps.push({ kind: 'start', release: 'target', count: wanted - running });
        running = wanted;
      }
      steps.push({ kind: 'route', rotation: { target: 'all', stable: 'all' }, weights: { mode: 'percent', target: weight }, preview: false, testers: true });
    }
    const pause = step.pause === 'indefinite' ? null : step.pause;
    const analyse = step.analysis ?? (hasCriteria(analysis) && running > 0);
    if (analyse && running > 0) {
      steps.push({ kind: 'analysis', durationMs: pause ?? (step.pause === 'indefinite' ? null : analysis.interval), weight });
    } else if (step.pause !== null && !input.skipPauses) {
      steps.push({ kind: 'pause', durationMs: pause, reason: `canary at ${weight}%` });
    }
  }
  if (full > running) steps.push({ kind: 'start', release: 'target', count: full - running });
  steps.push({ kind: 'route', rotation: { target: 'all', stable: 0 }, weights: { mode: 'percent', target: 100 }, preview: false }, { kind: 'promote' });
  if (canary.finalize === 'blue-green' && input.stableCount > 0 && input.deploy.blueGreen.scaleDownDelay > 0) {
    steps.push({ kind: 'standby', delayMs: input.deploy.blueGreen.scaleDownDelay });
  } else {
    if (input.stableCount > 0) steps.push({ kind: 'stop', release: 'stable', count: 'all' });
    steps.push({ kind: 'hook', hook: 'postDeploy' });
  }
  return steps;
}

/** True when the analysis has something to judge by. */
export function hasCriteria(analysis: AnalysisConfig): boolean {
  return (
    analysis.maxErrorRate !== undefined ||
    analysis.maxP99Latency !== undefined ||
    analysis.maxLatencyIncrease !== undefined ||
    analysis.maxErrorRateIncrease !== undefined ||
    (analysis.checks?.length ?? 0) > 0
  );
}

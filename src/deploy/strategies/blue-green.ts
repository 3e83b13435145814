// Blue-green: start the whole green fleet, let testers reach it with the preview header, switch all
// traffic in one table swap, and keep blue running for scaleDownDelay so a rollback is one swap too.
import type { Step } from '../steps.js';
import type { PlanInput } from './plan-input.js';

export function planBlueGreen(input: PlanInput): Step[] {
  const { autoPromote, scaleDownDelay } = input.deploy.blueGreen;
  const steps: Step[] = [
    { kind: 'hook', hook: 'preDeploy' },
    { kind: 'start', release: 'target', count: input.targetCount },
    { kind: 'route', rotation: { target: 'all', stable: 'all' }, weights: { mode: 'percent', target: 0 }, preview: true },
  ];
  if (!autoPromote && !input.skipPauses) {
    steps.push({ kind: 'pause', durationMs: null, reason: 'try the new release with the preview header first' });
  }
  steps.push(
    { kind: 'route', rotation: { target: 'all', stable: 0 }, weights: { mode: 'percent', target: 100 }, preview: false },
    { kind: 'promote' },
  );
  if (input.stableCount > 0 && scaleDownDelay > 0) steps.push({ kind: 'standby', delayMs: scaleDownDelay });
  else if (input.stableCount > 0) steps.push({ kind: 'stop', release: 'stable', count: 'all' }, { kind: 'hook', hook: 'postDeploy' });
  else steps.push({ kind: 'hook', hook: 'postDeploy' });
  return steps;
}

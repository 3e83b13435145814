// Rolling: replace the stable release batch by batch. With maxSurge 1 / maxUnavailable 0 (the default)
// a new instance is healthy and in rotation before an old one leaves (invariant 3).
import type { Step } from '../steps.js';
import type { PlanInput } from './plan-input.js';

export function planRolling(input: PlanInput): Step[] {
  const { maxSurge, maxUnavailable } = input.deploy.rolling;
  const steps: Step[] = [{ kind: 'hook', hook: 'preDeploy' }];
  if (input.stableCount === 0) {
    // Nothing serves yet, so there is no capacity to protect: start the whole release at once.
    steps.push({ kind: 'start', release: 'target', count: input.targetCount }, route(input.targetCount, 0));
    steps.push({ kind: 'promote' }, { kind: 'hook', hook: 'postDeploy' });
    return steps;
  }
  let oldLeft = input.stableCount;
  let newRunning = 0;
  while (newRunning < input.targetCount || oldLeft > 0) {
    // Capacity may dip by maxUnavailable: take that many old ones out before starting new ones.
    const stopFirst = Math.min(maxUnavailable, oldLeft);
    // Once no old instance is left there is no surge to limit: start what is still missing.
    const start = oldLeft - stopFirst === 0 ? input.targetCount - newRunning : Math.min(maxSurge + stopFirst, input.targetCount - newRunning);
    if (stopFirst > 0) {
      oldLeft -= stopFirst;
      steps.push(route(newRunning, oldLeft), { kind: 'stop', release: 'stable', count: stopFirst });
    }
    if (start > 0) {
      steps.push({ kind: 'start', release: 'target', count: start });
      newRunning += start;
    }
    // Then retire as many old ones as new ones came in (beyond what already left), or all of them at the end.
    const stopAfter = newRunning === input.targetCount ? oldLeft : Math.min(Math.max(start - stopFirst, 0), oldLeft);
    oldLeft -= stopAfter;
    steps.push(route(newRunning, oldLeft));
    if (stopAfter > 0) steps.push({ kind: 'stop', release: 'stable', count: stopAfter });
    if (start === 0 && stopFirst === 0 && stopAfter === 0) break;
  }
  steps.push({ kind: 'promote' }, { kind: 'hook', hook: 'postDeploy' });
  return steps;
}

function route(target: number, stable: number): Step {
  return { kind: 'route', rotation: { target, stable }, weights: { mode: 'instances' }, preview: false };
}

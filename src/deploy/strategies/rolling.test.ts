// Specification of the rolling planner: the steps are walked over a simulated fleet (instances running
// and in rotation per release), and invariant 3 is checked after every step. Pure; no processes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploySchema } from '../../config/deploy-schema.js';
import type { DeployConfig } from '../../config/index.js';
import type { RotationCount, Step } from '../steps.js';
import type { PlanInput } from './plan-input.js';
import { planRolling } from './rolling.js';

function deployConfig(maxSurge: number, maxUnavailable: number): DeployConfig {
  return deploySchema.parse({ rolling: { maxSurge, maxUnavailable } });
}

function input(stableCount: number, targetCount: number, maxSurge: number, maxUnavailable: number): PlanInput {
  return { stableCount, targetCount, deploy: deployConfig(maxSurge, maxUnavailable), skipPauses: false };
}

interface Fleet {
  stableRunning: number;
  stableInRotation: number;
  targetRunning: number;
  targetInRotation: number;
}

/** Runs the steps as the executor would, refusing anything it could not do; returns the fleet after each step. */
function simulate(steps: readonly Step[], stableCount: number): Fleet[] {
  const fleet: Fleet = { stableRunning: stableCount, stableInRotation: stableCount, targetRunning: 0, targetInRotation: 0 };
  const history: Fleet[] = [];
  const resolve = (want: RotationCount, running: number, what: string): number => {
    if (want === 'all') return running;
    assert.ok(want <= running, `${what}: ${want} wanted in rotation, only ${running} running`);
    return want;
  };
  steps.forEach((step, i) => {
    const at = `step ${i} (${step.kind})`;
    switch (step.kind) {
      case 'start':
        if (step.release === 'target') fleet.targetRunning += step.count;
        else fleet.stableRunning += step.count;
        break;
      case 'route':
        fleet.targetInRotation = resolve(step.rotation.target, fleet.targetRunning, `${at} target`);
        fleet.stableInRotation = resolve(step.rotation.stable, fleet.stableRunning, `${at} stable`);
        break;
      case 'stop': {
        // The executor only stops instances that are already out of rotation (invariant 2).
        const running = step.release === 'target' ? fleet.targetRunning : fleet.stableRunning;
        const inRotation = step.release === 'target' ? fleet.targetInRotation : fleet.stableInRotation;
        const idle = running - inRotation;
        const count = step.count === 'all' ? idle : step.count;
        assert.ok(count <= idle, `${at}: stops ${count} ${step.release} instances but only ${idle} are out of rotation`);
        if (step.release === 'target') fleet.targetRunning -= count;
        else fleet.stableRunning -= count;
        break;
      }
      case 'hook':
      case 'pause':
      case 'promote':
      case 'standby':
        break;
    }
    history.push({ ...fleet });
  });
  return history;
}

const inRotation = (f: Fleet) => f.stableInRotation + f.targetInRotation;
const running = (f: Fleet) => f.stableRunning + f.targetRunning;

/** Every property the plan must have, for one input. */
function assertSafePlan(stableCount: number, targetCount: number, maxSurge: number, maxUnavailable: number): void {
  const steps = planRolling(input(stableCount, targetCount, maxSurge, maxUnavailable));
  const label = `stable ${stableCount} → target ${targetCount}, maxSurge ${maxSurge}, maxUnavailable ${maxUnavailable}`;
  assert.ok(steps.length < 8 * (stableCount + targetCount) + 8, `${label}: ${steps.length} steps`);
  const history = simulate(steps, stableCount);

  // Invariant 3: capacity may dip by maxUnavailable at most, and surge by maxSurge at most.
  const floor = stableCount === 0 ? 0 : Math.min(stableCount, targetCount) - maxUnavailable;
  const cap = Math.max(stableCount, targetCount) + maxSurge;
  history.forEach((f, i) => {
    assert.ok(inRotation(f) >= floor, `${label}: after step ${i} only ${inRotation(f)} in rotation (floor ${floor})`);
    assert.ok(running(f) <= cap, `${label}: after step ${i} ${running(f)} running (cap ${cap})`);
  });

  // The end: every old instance stopped, every new one in rotation.
  const end = history.at(-1)!;
  assert.deepEqual(end, { stableRunning: 0, stableInRotation: 0, targetRunning: targetCount, targetInRotation: targetCount }, label);

  // Order: preDeploy first; promote after the last route; postDeploy last, after the last stable stop.
  const kinds = steps.map((s) => (s.kind === 'hook' ? s.hook : s.kind));
  assert.equal(kinds[0], 'preDeploy', label);
  assert.equal(kinds.filter((k) => k === 'preDeploy').length, 1, label);
  assert.equal(kinds.filter((k) => k === 'promote').length, 1, label);
  assert.ok(kinds.indexOf('promote') > kinds.lastIndexOf('route'), `${label}: promote before the last route`);
  assert.equal(kinds.at(-1), 'postDeploy', label);
  const lastStableStop = steps.findLastIndex((s) => s.kind === 'stop' && s.release === 'stable');
  assert.ok(kinds.indexOf('postDeploy') > lastStableStop, `${label}: postDeploy before the last stable stop`);
  assert.ok(!kinds.includes('pause') && !kinds.includes('standby'), `${label}: a rolling plan has no pause or standby`);
  // No step ever starts or stops instances of the wrong release.
  assert.ok(steps.every((s) => !(s.kind === 'start' && s.release === 'stable')), `${label}: starts stable instances`);
}

const COMBOS: readonly [maxSurge: number, maxUnavailable: number][] = [
  [1, 0],
  [2, 0],
  [0, 1],
  [1, 1],
];

describe('the rolling planner', () => {
  for (const [maxSurge, maxUnavailable] of COMBOS) {
    it(`keeps capacity and replaces every instance for 1 to 5 instances with maxSurge ${maxSurge}, maxUnavailable ${maxUnavailable}`, () => {
      for (let n = 1; n <= 5; n++) assertSafePlan(n, n, maxSurge, maxUnavailable);
    });
  }

  it('with maxUnavailable 0 never has fewer than N instances in rotation, nor more than N + maxSurge running', () => {
    for (const maxSurge of [1, 2, 3]) {
      for (let n = 1; n <= 5; n++) {
        const history = simulate(planRolling(input(n, n, maxSurge, 0)), n);
        assert.ok(history.every((f) => inRotation(f) >= n && running(f) <= n + maxSurge), `N ${n}, maxSurge ${maxSurge}`);
      }
    }
  });

  it('starts one new instance before the first old one leaves with the defaults (maxSurge 1, maxUnavailable 0)', () => {
    const steps = planRolling(input(2, 2, 1, 0));
    assert.deepEqual(
      steps.map((s) => s.kind),
      ['hook', 'start', 'route', 'stop', 'start', 'route', 'stop', 'promote', 'hook'],
    );
    assert.deepEqual(steps[1], { kind: 'start', release: 'target', count: 1 });
    assert.deepEqual(steps[2], { kind: 'route', rotation: { target: 1, stable: 1 }, weights: { mode: 'instances' }, preview: false });
  });

  it('takes an old instance out first when only maxUnavailable allows progress (maxSurge 0)', () => {
    const steps = planRolling(input(3, 3, 0, 1));
    const firstStop = steps.findIndex((s) => s.kind === 'stop');
    const firstStart = steps.findIndex((s) => s.kind === 'start');
    assert.ok(firstStop < firstStart, 'an old instance stops before a new one starts');
    assertSafePlan(3, 3, 0, 1);
  });

  it('starts the whole release at once on a first deployment (no stable instances)', () => {
    for (const [maxSurge, maxUnavailable] of COMBOS) {
      for (let n = 1; n <= 5; n++) {
        const steps = planRolling(input(0, n, maxSurge, maxUnavailable));
        assert.deepEqual(steps, [
          { kind: 'hook', hook: 'preDeploy' },
          { kind: 'start', release: 'target', count: n },
          { kind: 'route', rotation: { target: n, stable: 0 }, weights: { mode: 'instances' }, preview: false },
          { kind: 'promote' },
          { kind: 'hook', hook: 'postDeploy' },
        ]);
        assertSafePlan(0, n, maxSurge, maxUnavailable);
      }
    }
  });

  for (const [maxSurge, maxUnavailable] of COMBOS) {
    // A stable release may run fewer instances than wanted (one did not start, or `scale` changed the count).
    it(
      `ends with exactly the target count when it differs from the stable count (maxSurge ${maxSurge}, maxUnavailable ${maxUnavailable})`,
      () => {
        for (let stable = 1; stable <= 5; stable++) {
          for (let target = 1; target <= 5; target++) if (stable !== target) assertSafePlan(stable, target, maxSurge, maxUnavailable);
        }
      },
    );
  }

  it('is pure: the same input gives the same steps and the input is left as it was', () => {
    const given = input(3, 3, 1, 1);
    const before = JSON.stringify(given);
    assert.deepEqual(planRolling(given), planRolling(given));
    assert.equal(JSON.stringify(given), before);
  });
});

// Specification of the blue-green planner: the whole green fleet starts and is health-gated while blue
// serves everything, one swap switches all traffic, and blue is kept on standby or stopped. Pure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploySchema } from '../../config/deploy-schema.js';
import type { Step } from '../steps.js';
import { planBlueGreen } from './blue-green.js';
import type { PlanInput } from './plan-input.js';

interface Options {
  stableCount?: number;
  targetCount?: number;
  autoPromote?: boolean;
  scaleDownDelay?: string;
  skipPauses?: boolean;
}

function input({ stableCount = 2, targetCount = 2, autoPromote = true, scaleDownDelay = '5m', skipPauses = false }: Options = {}): PlanInput {
  return { stableCount, targetCount, deploy: deploySchema.parse({ blueGreen: { autoPromote, scaleDownDelay } }), skipPauses };
}

const PREVIEW: Step = { kind: 'route', rotation: { target: 'all', stable: 'all' }, weights: { mode: 'percent', target: 0 }, preview: true };
const SWITCH: Step = { kind: 'route', rotation: { target: 'all', stable: 0 }, weights: { mode: 'percent', target: 100 }, preview: false };

describe('the blue-green planner', () => {
  it('with autoPromote starts green, offers it on the preview header, switches in one route step, and keeps blue on standby', () => {
    assert.deepEqual(planBlueGreen(input({ stableCount: 3, targetCount: 3 })), [
      { kind: 'hook', hook: 'preDeploy' },
      { kind: 'start', release: 'target', count: 3 },
      PREVIEW,
      SWITCH,
      { kind: 'promote' },
      { kind: 'standby', delayMs: 300_000 },
    ]);
  });

  it('without autoPromote waits at a pause until promoted, between the preview and the switch', () => {
    const steps = planBlueGreen(input({ autoPromote: false }));
    const kinds = steps.map((s) => s.kind);
    assert.deepEqual(kinds, ['hook', 'start', 'route', 'pause', 'route', 'promote', 'standby']);
    const pause = steps[3]!;
    assert.equal(pause.kind === 'pause' && pause.durationMs, null, 'the pause lasts until promote');
    assert.deepEqual(steps[2], PREVIEW);
    assert.deepEqual(steps[4], SWITCH);
  });

  it('skips the pause for rollbacks and promote --full (skipPauses)', () => {
    const kinds = planBlueGreen(input({ autoPromote: false, skipPauses: true })).map((s) => s.kind);
    assert.ok(!kinds.includes('pause'));
  });

  it('stops blue and then runs postDeploy when scaleDownDelay is 0', () => {
    const steps = planBlueGreen(input({ scaleDownDelay: '0' }));
    assert.deepEqual(steps.slice(-4), [SWITCH, { kind: 'promote' }, { kind: 'stop', release: 'stable', count: 'all' }, { kind: 'hook', hook: 'postDeploy' }]);
    assert.ok(!steps.some((s) => s.kind === 'standby'));
  });

  it('keeps no standby when there is no blue fleet (stableCount 0), and ends with postDeploy', () => {
    const steps = planBlueGreen(input({ stableCount: 0, scaleDownDelay: '30s' }));
    assert.ok(!steps.some((s) => s.kind === 'standby'));
    assert.deepEqual(steps.at(-1), { kind: 'hook', hook: 'postDeploy' });
    // Stopping blue is pointless (and may be left out) with no blue instances; if planned, it is after the switch.
    const stop = steps.findIndex((s) => s.kind === 'stop');
    if (stop >= 0) {
      assert.deepEqual(steps[stop], { kind: 'stop', release: 'stable', count: 'all' });
      assert.ok(stop > steps.findIndex((s) => s.kind === 'promote'));
    }
  });

  it('keeps blue serving all unpinned traffic until the switch, and never more than both fleets running', () => {
    for (const autoPromote of [true, false]) {
      for (let n = 1; n <= 5; n++) {
        const steps = planBlueGreen(input({ stableCount: n, targetCount: n, autoPromote }));
        const switchAt = steps.findIndex((s) => s.kind === 'route' && !s.preview);
        const startAt = steps.findIndex((s) => s.kind === 'start');
        // Green is started (and health-gated) before any route step exposes it, even on the preview header.
        assert.ok(startAt < steps.findIndex((s) => s.kind === 'route'));
        for (const step of steps.slice(0, switchAt)) {
          if (step.kind === 'route') assert.deepEqual(step.weights, { mode: 'percent', target: 0 }, 'green gets no unpinned traffic before the switch');
          assert.ok(step.kind !== 'stop', 'nothing stops before the switch');
        }
        const starts = steps.filter((s) => s.kind === 'start');
        assert.deepEqual(starts, [{ kind: 'start', release: 'target', count: n }], 'green starts once, whole');
        assert.ok(steps.findIndex((s) => s.kind === 'promote') === switchAt + 1, 'promote right after the switch');
      }
    }
  });

  it('starts the target count even when it differs from the stable count', () => {
    const steps = planBlueGreen(input({ stableCount: 2, targetCount: 4 }));
    assert.deepEqual(steps[1], { kind: 'start', release: 'target', count: 4 });
  });
});

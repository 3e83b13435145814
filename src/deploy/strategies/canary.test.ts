// Specification of the canary planner: a few target instances take a growing share of traffic step by
// step (each step paused or analysed), then the target scales to full size and takes everything in one
// route step; stable stays whole and in rotation until then (capacity never drops). Pure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploySchema } from '../../config/deploy-schema.js';
import type { Step } from '../steps.js';
import { hasCriteria, planCanary } from './canary.js';
import type { PlanInput } from './plan-input.js';

interface Options {
  stableCount?: number;
  targetCount?: number;
  /** The service's `deploy` section as written in switchyard.yaml. */
  deploy?: Record<string, unknown>;
  skipPauses?: boolean;
}

function input({ stableCount = 2, targetCount = 2, deploy = {}, skipPauses = false }: Options = {}): PlanInput {
  return { stableCount, targetCount, deploy: deploySchema.parse({ strategy: 'canary', ...deploy }), skipPauses };
}

const ANALYSED = { maxErrorRate: '1%', interval: '1s' };

/** The route step of a canary step at `weight`: both releases whole in rotation, testers on. */
function split(weight: number): Step {
  return { kind: 'route', rotation: { target: 'all', stable: 'all' }, weights: { mode: 'percent', target: weight }, preview: false, testers: true };
}

const FINAL_ROUTE: Step = { kind: 'route', rotation: { target: 'all', stable: 0 }, weights: { mode: 'percent', target: 100 }, preview: false };

function starts(steps: Step[]): number[] {
  return steps.flatMap((s) => (s.kind === 'start' ? [s.count] : []));
}

describe('the canary planner', () => {
  it('plans the default steps (5% for 30 s, 25% and 50% for 1 min each) with one canary instance, then scales up, switches and stops stable', () => {
    assert.deepEqual(planCanary(input()), [
      { kind: 'hook', hook: 'preDeploy' },
      { kind: 'start', release: 'target', count: 1 },
      split(5),
      { kind: 'pause', durationMs: 30_000, reason: 'canary at 5%' },
      split(25),
      { kind: 'pause', durationMs: 60_000, reason: 'canary at 25%' },
      split(50),
      { kind: 'pause', durationMs: 60_000, reason: 'canary at 50%' },
      { kind: 'start', release: 'target', count: 1 },
      FINAL_ROUTE,
      { kind: 'promote' },
      { kind: 'stop', release: 'stable', count: 'all' },
      { kind: 'hook', hook: 'postDeploy' },
    ]);
  });

  describe('canary instances', () => {
    it('in proportion to the weight: ceil(count × weight / 100), at least 1, started before the step routes to them', () => {
      const steps = planCanary(input({ stableCount: 10, targetCount: 10, deploy: { canary: { steps: [{ weight: 0 }, { weight: 5 }, { weight: 25 }, { weight: 50 }, { weight: 100 }] } } }));
      // Running after each step: 1 (weight 0 still needs one for testers), 1, 3, 5, 10.
      assert.deepEqual(starts(steps), [1, 2, 2, 5]);
      const kinds = steps.map((s) => (s.kind === 'route' ? `route ${s.weights.mode === 'percent' ? s.weights.target : '?'}` : s.kind === 'start' ? `start ${s.count}` : s.kind));
      assert.deepEqual(kinds, ['hook', 'start 1', 'route 0', 'route 5', 'start 2', 'route 25', 'start 2', 'route 50', 'start 5', 'route 100', 'route 100', 'promote', 'stop', 'hook']);
    });

    it('a fixed number: started once at the first weight, never more than the target count, the rest before the final switch', () => {
      const fixed = planCanary(input({ stableCount: 4, targetCount: 4, deploy: { canary: { instances: 2, steps: [{ weight: 10 }, { weight: 60 }] } } }));
      assert.deepEqual(starts(fixed), [2, 2]);
      assert.deepEqual(fixed.slice(1, 4), [{ kind: 'start', release: 'target', count: 2 }, split(10), split(60)]);

      const capped = planCanary(input({ stableCount: 2, targetCount: 2, deploy: { canary: { instances: 5, steps: [{ weight: 10 }] } } }));
      assert.deepEqual(starts(capped), [2], 'no more canary instances than the release will have');
    });

    it('does not shrink the canary when a later step lowers the weight', () => {
      const steps = planCanary(input({ stableCount: 4, targetCount: 4, deploy: { canary: { steps: [{ weight: 50 }, { weight: 10 }] } } }));
      assert.deepEqual(starts(steps), [2, 2]);
      assert.ok(!steps.some((s) => s.kind === 'stop' && s.release === 'target'));
    });
  });

  describe('weight, pause and analysis', () => {
    it('without analysis criteria: a weight-only step just routes, a pause-only step pauses at the current weight', () => {
      const steps = planCanary(input({ deploy: { canary: { steps: [{ weight: 10 }, { pause: '2s' }, { weight: 30, pause: '5s' }] } } }));
      assert.deepEqual(steps.slice(1, 7), [
        { kind: 'start', release: 'target', count: 1 },
        split(10),
        { kind: 'pause', durationMs: 2000, reason: 'canary at 10%' },
        split(30),
        { kind: 'pause', durationMs: 5000, reason: 'canary at 30%' },
        { kind: 'start', release: 'target', count: 1 },
      ]);
      assert.ok(!steps.some((s) => s.kind === 'analysis'));
    });

    it('with criteria every step after the first weight is analysed: for its pause, or for one interval when it has none', () => {
      const steps = planCanary(input({ deploy: { analysis: ANALYSED, canary: { steps: [{ weight: 10, pause: '2s' }, { weight: 50 }, { pause: '3s' }] } } }));
      assert.deepEqual(
        steps.filter((s) => s.kind === 'analysis' || s.kind === 'pause'),
        [
          { kind: 'analysis', durationMs: 2000, weight: 10 },
          { kind: 'analysis', durationMs: 1000, weight: 50 },
          { kind: 'analysis', durationMs: 3000, weight: 50 },
        ],
      );
    });

    it('analysis: false turns a step back into a plain pause; analysis: true analyses even without criteria', () => {
      const off = planCanary(input({ deploy: { analysis: ANALYSED, canary: { steps: [{ weight: 10, pause: '2s', analysis: false }] } } }));
      assert.deepEqual(off.filter((s) => s.kind === 'analysis' || s.kind === 'pause'), [{ kind: 'pause', durationMs: 2000, reason: 'canary at 10%' }]);
      const on = planCanary(input({ deploy: { canary: { steps: [{ weight: 10, analysis: true }] } } }));
      assert.deepEqual(on.filter((s) => s.kind === 'analysis' || s.kind === 'pause'), [{ kind: 'analysis', durationMs: 10_000, weight: 10 }]);
    });

    it('an indefinite pause waits for promote: an analysis with durationMs null when there are criteria, else a pause with durationMs null', () => {
      const analysed = planCanary(input({ deploy: { analysis: ANALYSED, canary: { steps: [{ weight: 10, pause: 'indefinite' }] } } }));
      assert.deepEqual(analysed.filter((s) => s.kind === 'analysis' || s.kind === 'pause'), [{ kind: 'analysis', durationMs: null, weight: 10 }]);
      const paused = planCanary(input({ deploy: { canary: { steps: [{ weight: 10, pause: 'indefinite' }] } } }));
      assert.deepEqual(paused.filter((s) => s.kind === 'analysis' || s.kind === 'pause'), [{ kind: 'pause', durationMs: null, reason: 'canary at 10%' }]);
    });

    it('an A/B experiment (an indefinite pause at 50%) holds a fixed split until promoted', () => {
      const steps = planCanary(input({ deploy: { canary: { steps: [{ weight: 50, pause: 'indefinite' }] } } }));
      const pause = steps.findIndex((s) => s.kind === 'pause');
      assert.deepEqual(steps[pause - 1], split(50));
      assert.deepEqual(steps[pause], { kind: 'pause', durationMs: null, reason: 'canary at 50%' });
      assert.deepEqual(steps[pause + 2], FINAL_ROUTE, 'nothing moves traffic until the pause ends');
    });

    it('leaves out plain pauses for rollbacks and promote --full (skipPauses)', () => {
      const steps = planCanary(input({ skipPauses: true }));
      assert.ok(!steps.some((s) => s.kind === 'pause'));
      assert.deepEqual(steps.filter((s) => s.kind === 'route').length, 4);
    });

    it('knows when the analysis has something to judge by', () => {
      const analysis = (a: Record<string, unknown>) => deploySchema.parse({ analysis: a }).analysis;
      assert.equal(hasCriteria(analysis({})), false);
      assert.equal(hasCriteria(analysis({ interval: '1s', minRequests: 10 })), false);
      for (const criterion of [{ maxErrorRate: '1%' }, { maxP99Latency: '500ms' }, { maxLatencyIncrease: '50%' }, { maxErrorRateIncrease: '1%' }, { checks: [{ http: 'http://127.0.0.1:1/ok' }] }]) {
        assert.equal(hasCriteria(analysis(criterion)), true, JSON.stringify(criterion));
      }
    });
  });

  describe('finalize: blue-green', () => {
    it('starts the rest of the fleet, switches in one route step, and keeps stable on standby for scaleDownDelay instead of stopping it', () => {
      const steps = planCanary(
        input({ stableCount: 3, targetCount: 3, deploy: { analysis: ANALYSED, canary: { finalize: 'blue-green', steps: [{ weight: 10, pause: '2s' }] }, blueGreen: { scaleDownDelay: '3s' } } }),
      );
      assert.deepEqual(steps.slice(-4), [{ kind: 'start', release: 'target', count: 2 }, FINAL_ROUTE, { kind: 'promote' }, { kind: 'standby', delayMs: 3000 }]);
      assert.ok(!steps.some((s) => s.kind === 'stop'));
    });

    it('stops stable and runs postDeploy when scaleDownDelay is 0, or when there is no stable fleet', () => {
      for (const [stableCount, scaleDownDelay] of [
        [2, '0'],
        [0, '5m'],
      ] as const) {
        const steps = planCanary(input({ stableCount, deploy: { canary: { finalize: 'blue-green' }, blueGreen: { scaleDownDelay } } }));
        assert.ok(!steps.some((s) => s.kind === 'standby'), `stable ${stableCount}, delay ${scaleDownDelay}`);
        assert.deepEqual(steps.at(-1), { kind: 'hook', hook: 'postDeploy' });
      }
    });

    it('without finalize, stops stable after the switch', () => {
      const steps = planCanary(input({ deploy: { blueGreen: { scaleDownDelay: '3s' } } }));
      assert.ok(!steps.some((s) => s.kind === 'standby'));
      assert.deepEqual(steps.slice(-3), [{ kind: 'promote' }, { kind: 'stop', release: 'stable', count: 'all' }, { kind: 'hook', hook: 'postDeploy' }]);
    });
  });

  it('never lowers capacity: stable stays whole in rotation until the final route, which comes only once the target has its full count started', () => {
    const stepSets = [
      [{ weight: 10, pause: '2s' }, { weight: 50, pause: '2s' }],
      [{ weight: 0, pause: 'indefinite' }],
      [{ weight: 33 }, { pause: '1s' }, { weight: 66, analysis: true }, { weight: 100, pause: '1s' }],
      [{ pause: '1s' }, { weight: 1 }],
    ];
    for (const stepsConfig of stepSets) {
      for (const instances of ['proportional', 1, 3] as const) {
        for (const finalize of ['none', 'blue-green'] as const) {
          for (const [stableCount, targetCount] of [
            [1, 1],
            [2, 2],
            [3, 5],
            [7, 4],
          ] as const) {
            for (const analysis of [{}, ANALYSED]) {
              const what = JSON.stringify({ stepsConfig, instances, finalize, stableCount, targetCount, analysis });
              const steps = planCanary(input({ stableCount, targetCount, deploy: { analysis, canary: { steps: stepsConfig, instances, finalize } } }));
              const routes = steps.flatMap((s, i) => (s.kind === 'route' ? [i] : []));
              const finalAt = routes.at(-1)!;
              assert.deepEqual(steps[finalAt], FINAL_ROUTE, what);
              let started = 0;
              for (const [i, step] of steps.entries()) {
                if (step.kind === 'start') {
                  assert.equal(step.release, 'target', what);
                  started += step.count;
                  assert.ok(started <= targetCount, `more target instances than wanted: ${what}`);
                }
                if (i < finalAt) {
                  assert.ok(step.kind !== 'stop' && step.kind !== 'promote' && step.kind !== 'standby', `${step.kind} before the final route: ${what}`);
                  if (step.kind === 'route') {
                    assert.equal(step.rotation.stable, 'all', `stable out of rotation before the final route: ${what}`);
                    if (step.weights.mode === 'percent' && step.weights.target > 0) assert.ok(started > 0, `traffic to a target with no instance: ${what}`);
                  }
                }
                if (i === finalAt) assert.equal(started, targetCount, `the final route before the whole target fleet started: ${what}`);
              }
              assert.deepEqual(steps[finalAt + 1], { kind: 'promote' }, what);
              const stop = steps.findIndex((s) => s.kind === 'stop');
              if (stop >= 0) assert.ok(stop > finalAt, what);
            }
          }
        }
      }
    }
  });
});

// Specification of step descriptions: sentences for the person watching, naming the versions, with none
// of the planner's words (stable/target, rotation counts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploySchema } from '../config/deploy-schema.js';
import { describeStep, stepNames } from './steps.js';
import { plan } from './strategies/index.js';

const names = { target: 'v2', stable: 'v1' };

describe('describeStep', () => {
  it('says what a canary route step does, in percentages of traffic per version', () => {
    const step = { kind: 'route', rotation: { target: 'all', stable: 'all' }, weights: { mode: 'percent', target: 5 }, preview: false, testers: true } as const;
    assert.equal(describeStep(step, names), 'send 5% of traffic to v2 and 95% to v1; requests matching canary.route always reach v2');
  });

  it('says what rolling steps do, by instances of each version', () => {
    assert.equal(describeStep({ kind: 'start', release: 'target', count: 1 }, names), 'start 1 instance of v2 and wait until it is healthy');
    assert.equal(describeStep({ kind: 'route', rotation: { target: 1, stable: 1 }, weights: { mode: 'instances' }, preview: false }, names), 'serve from 1 instance of v2 and 1 instance of v1');
    assert.equal(describeStep({ kind: 'stop', release: 'stable', count: 1 }, names), 'drain and stop 1 instance of v1');
    assert.equal(describeStep({ kind: 'promote' }, names), 'make v2 the stable release');
  });

  it('tells apart two releases with one version label by their numbers', () => {
    assert.deepEqual(stepNames({ version: 'v2', number: 7 }, { version: 'v2', number: 5 }), { target: 'v2 (release 7)', stable: 'v2 (release 5)' });
  });

  for (const strategy of ['rolling', 'blue-green', 'canary'] as const) {
    it(`uses no planner jargon in any ${strategy} step`, () => {
      const deploy = deploySchema.parse({ hooks: { preDeploy: 'true', postDeploy: 'true' }, blueGreen: { autoPromote: false }, analysis: { maxErrorRate: '1%' } });
      for (const step of plan(strategy, { stableCount: 2, targetCount: 2, deploy, skipPauses: false })) {
        const text = describeStep(step, names);
        assert.doesNotMatch(text, /stable\/target|in rotation,|\btarget\b|route:/, text);
        assert.match(text, /v1|v2|hook|new release/, text);
      }
    });
  }
});

// Specification of plan(): the planners' steps, with hook steps only for hooks that are configured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploySchema } from '../../config/deploy-schema.js';
import { plan } from './index.js';

const input = (hooks: Record<string, string>) => ({ stableCount: 2, targetCount: 2, deploy: deploySchema.parse({ hooks }), skipPauses: false });

describe('plan', () => {
  for (const strategy of ['rolling', 'blue-green', 'canary'] as const) {
    it(`has no hook steps for a ${strategy} deployment of a service without hooks`, () => {
      assert.deepEqual(plan(strategy, input({})).filter((s) => s.kind === 'hook'), []);
    });
  }

  it('keeps the hook steps of the hooks that are configured, and only those', () => {
    const hooks = plan('rolling', input({ preDeploy: 'npm run migrate' })).flatMap((s) => (s.kind === 'hook' ? [s.hook] : []));
    assert.deepEqual(hooks, ['preDeploy']);
    const both = plan('canary', input({ preDeploy: 'a', postDeploy: 'b' })).flatMap((s) => (s.kind === 'hook' ? [s.hook] : []));
    assert.deepEqual(both, ['preDeploy', 'postDeploy']);
  });
});

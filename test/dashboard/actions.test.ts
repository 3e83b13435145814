// Specification of the controls: each phase offers exactly what the controller accepts in it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeploymentDetail, DeploymentView, ServiceView, StepView } from '../../src/dashboard/api/types.js';
import { possibleActions, rollbackTarget } from '../../src/dashboard/state/actions.js';

const step = (index: number, kind: string, state: string): StepView => ({ index, kind, description: kind, state, detail: null, startedAt: null, finishedAt: null });

function deployment(state: DeploymentView['state'], steps: StepView[], currentStep: number, extra: Partial<DeploymentView> = {}): DeploymentView {
  return {
    id: 2,
    service: 'web',
    kind: 'deploy',
    strategy: 'canary',
    state,
    reason: null,
    from: { number: 1, version: 'v1' },
    to: { number: 2, version: 'v2' },
    createdAt: '2024-01-01T00:00:00.000Z',
    finishedAt: null,
    durationMs: 1000,
    currentStep,
    steps,
    verdicts: [],
    failureOutput: [],
    ...extra,
  };
}

function service(d: DeploymentView | null, standby: ServiceView['standby'] = null): ServiceView {
  return { name: 'web', kind: 'process', strategy: 'canary', stable: { number: 2, version: 'v2' }, instancesWanted: 2, releases: [], preview: null, deployment: d, lastDeployment: null, standby };
}

const canarySteps = [step(0, 'start', 'done'), step(1, 'route', 'done'), step(2, 'analysis', 'running'), step(3, 'promote', 'pending')];

describe('the controls offered', () => {
  it('at a canary step that waits: promote, promote fully, pause, abort', () => {
    assert.deepEqual(possibleActions(service(deployment('progressing', canarySteps, 2)), null, []), ['promote', 'promote-full', 'pause', 'abort']);
  });

  it('while instances start: no promote of a step, but pause and abort', () => {
    const d = deployment('progressing', [step(0, 'start', 'running'), step(1, 'pause', 'pending')], 0);
    assert.deepEqual(possibleActions(service(d), null, []), ['promote-full', 'pause', 'abort']);
  });

  it('at an indefinite pause step: promote rather than resume', () => {
    const d = deployment('paused', [step(0, 'pause', 'running')], 0);
    assert.deepEqual(possibleActions(service(d), null, []), ['promote', 'promote-full', 'abort']);
  });

  it('after a person paused: resume and abort', () => {
    const d = deployment('paused', canarySteps, 2);
    const detail: DeploymentDetail = {
      ...d,
      events: [{ id: 9, time: '', service: 'web', deploymentId: 2, instanceId: null, type: 'deployment.paused', message: 'paused by user', data: null }],
    };
    assert.deepEqual(possibleActions(service(d), detail, []), ['resume', 'abort']);
  });

  it('while rolling back: nothing', () => {
    assert.deepEqual(possibleActions(service(deployment('rolling-back', canarySteps, 2)), null, []), []);
  });

  it('with no deployment: rollback only when there is a release to go back to', () => {
    const done = deployment('succeeded', [], 4, { finishedAt: '2024-01-01T00:01:00.000Z' });
    assert.deepEqual(possibleActions(service(null), null, [done]), ['rollback']);
    assert.equal(rollbackTarget(service(null), [done]), 'v1');
    assert.deepEqual(possibleActions(service(null), null, [{ ...done, from: null }]), []);
    assert.equal(rollbackTarget(service(null, { version: 'v1', number: 1, until: '' }), []), 'v1');
  });
});

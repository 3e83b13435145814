import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './store.js';
import type { DeploymentRow, DeploymentState, ReleaseRow, ReleaseSpec } from './rows.js';

const SPEC: ReleaseSpec = { kind: 'process', command: 'node server.js', cwd: '.', env: {} };

describe('deployments and their steps', () => {
  let tmp: string;
  let store: SqliteStore;
  let v1: ReleaseRow;
  let v2: ReleaseRow;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sy-deployments-'));
    store = SqliteStore.open(tmp);
    v1 = store.createRelease('web', 'v1', SPEC);
    v2 = store.createRelease('web', 'v2', SPEC);
  });
  afterEach(() => {
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  function deploy(state: DeploymentState = 'pending', service = 'web'): DeploymentRow {
    const to = service === 'web' ? v2 : store.createRelease(service, 'v1', SPEC);
    const from = service === 'web' ? v1.id : null;
    return store.createDeployment({ service, fromReleaseId: from, toReleaseId: to.id, strategy: 'canary', kind: 'deploy', state });
  }

  it('creates a deployment and reads it back', () => {
    const created = deploy();
    assert.deepEqual(store.deployment(created.id), {
      id: created.id, service: 'web', fromReleaseId: v1.id, toReleaseId: v2.id, strategy: 'canary', kind: 'deploy',
      state: 'pending', reason: null, createdAt: created.createdAt, updatedAt: created.createdAt, finishedAt: null,
    });
    assert.equal(store.deployment(9999), undefined);
  });

  it('updates state, reason and finishedAt, leaving out what the patch leaves out', () => {
    const d = deploy('progressing');
    const paused = store.updateDeployment(d.id, { state: 'paused', reason: 'paused by operator' });
    assert.deepEqual([paused.state, paused.reason, paused.finishedAt], ['paused', 'paused by operator', null]);
    const resumed = store.updateDeployment(d.id, { state: 'progressing', reason: null });
    assert.equal(resumed.reason, null);
    const done = store.updateDeployment(d.id, { state: 'succeeded', finishedAt: '2025-01-01T00:10:00.000Z' });
    assert.deepEqual(store.deployment(d.id), done);
    assert.equal(done.finishedAt, '2025-01-01T00:10:00.000Z');
    assert.throws(() => store.updateDeployment(9999, { state: 'failed' }), { name: 'StoreError', code: 'SY_ERR_STATE_NOT_FOUND' });
  });

  it('lists a service’s deployments newest first, up to a limit', () => {
    const ids = [deploy(), deploy(), deploy()].map((d) => d.id);
    deploy('pending', 'api');
    assert.deepEqual(store.deployments('web').map((d) => d.id), ids.toReversed());
    assert.deepEqual(store.deployments('web', 2).map((d) => d.id), ids.toReversed().slice(0, 2));
    assert.deepEqual(store.deployments('nobody'), []);
  });

  it('finds the active deployments: pending, progressing, paused or rolling back', () => {
    const states: DeploymentState[] = ['pending', 'progressing', 'paused', 'succeeded', 'rolling-back', 'rolled-back', 'failed'];
    const all = states.map((state) => deploy(state));
    const api = deploy('progressing', 'api');
    assert.deepEqual(
      store.activeDeployments().map((d) => d.state),
      ['pending', 'progressing', 'paused', 'rolling-back', 'progressing'],
    );
    store.updateDeployment(api.id, { state: 'failed' });
    store.updateDeployment(all[0]?.id ?? 0, { state: 'succeeded' });
    assert.deepEqual(store.activeDeployments().map((d) => d.state), ['progressing', 'paused', 'rolling-back']);
  });

  it('saves a plan as pending steps with their JSON params, in order', () => {
    const d = deploy();
    const plan = [
      { kind: 'start-instances', params: { release: v2.id, count: 1 } },
      { kind: 'set-weights', params: { weights: [{ release: v2.id, weight: 5 }], note: 'π ✓', nothing: null } },
      { kind: 'pause', params: undefined },
    ];
    store.saveSteps(d.id, plan);
    const fresh = { deploymentId: d.id, state: 'pending', detail: null, startedAt: null, finishedAt: null, undo: null };
    assert.deepEqual(store.steps(d.id), [
      { ...fresh, index: 0, kind: 'start-instances', params: { release: v2.id, count: 1 } },
      { ...fresh, index: 1, kind: 'set-weights', params: plan[1]?.params },
      { ...fresh, index: 2, kind: 'pause', params: null },
    ]);
  });

  it('replaces the whole plan when steps are saved again', () => {
    const d = deploy();
    store.saveSteps(d.id, [{ kind: 'a', params: 1 }, { kind: 'b', params: 2 }, { kind: 'c', params: 3 }]);
    store.updateStep(d.id, 0, { state: 'done' });
    store.saveSteps(d.id, [{ kind: 'undo-a', params: {} }]);
    assert.deepEqual(store.steps(d.id).map((s) => [s.index, s.kind, s.state]), [[0, 'undo-a', 'pending']]);
  });

  it('updates a step’s state, detail and times, leaving out what the patch leaves out', () => {
    const d = deploy();
    store.saveSteps(d.id, [{ kind: 'set-weights', params: { weight: 25 } }]);
    store.updateStep(d.id, 0, { state: 'running', startedAt: '2025-01-01T00:00:00.000Z' });
    store.updateStep(d.id, 0, { state: 'failed', detail: 'error rate 4% > 1%', finishedAt: '2025-01-01T00:01:00.000Z' });
    store.updateStep(d.id, 0, { undo: { kind: 'route', before: { weight: 0 } } });
    store.updateStep(d.id, 0, { state: 'undone' });
    assert.deepEqual(store.steps(d.id)[0], {
      deploymentId: d.id, index: 0, kind: 'set-weights', params: { weight: 25 }, state: 'undone',
      detail: 'error rate 4% > 1%', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:01:00.000Z',
      undo: { kind: 'route', before: { weight: 0 } },
    });
    assert.throws(() => store.updateStep(d.id, 1, { state: 'done' }), { name: 'StoreError', code: 'SY_ERR_STATE_NOT_FOUND' });
  });

  it('keeps each deployment’s steps apart', () => {
    const a = deploy();
    const b = deploy();
    store.saveSteps(a.id, [{ kind: 'a', params: null }]);
    store.saveSteps(b.id, [{ kind: 'b1', params: null }, { kind: 'b2', params: null }]);
    assert.deepEqual(store.steps(a.id).map((s) => s.kind), ['a']);
    assert.deepEqual(store.steps(b.id).map((s) => s.kind), ['b1', 'b2']);
    assert.deepEqual(store.steps(9999), []);
  });
});

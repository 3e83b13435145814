import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './store.js';
import { StoreError } from './errors.js';
import type { ReleaseSpec } from './rows.js';

const SPEC: ReleaseSpec = { kind: 'process', command: ['node', 'server.js'], cwd: '/srv/web', env: { PORT: '0' } };

describe('Store.open', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sy-store-'));
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('creates a missing state dir with mode 0700 and the database with mode 0600', () => {
    const stateDir = join(tmp, 'nested', 'state');
    const store = SqliteStore.open(stateDir);
    store.addEvent({ type: 'daemon.started', message: 'up' }); // so the WAL file exists too
    try {
      assert.equal(store.path, join(stateDir, 'state.db'));
      assert.equal(statSync(stateDir).mode & 0o777, 0o700);
      assert.equal(statSync(store.path).mode & 0o777, 0o600);
      assert.equal(statSync(`${store.path}-wal`).mode & 0o777, 0o600);
    } finally {
      store.close();
    }
  });

  it('names the database by its absolute path', () => {
    const store = SqliteStore.open(join(tmp, '.', 'state'));
    store.close();
    assert.equal(store.path, join(tmp, 'state', 'state.db'));
  });

  it('refuses a state dir under a regular file with SY_ERR_STATE_UNWRITABLE, naming the path and the reason', () => {
    writeFileSync(join(tmp, 'afile'), 'not a directory');
    const stateDir = join(tmp, 'afile', 'state');
    assert.throws(
      () => SqliteStore.open(stateDir),
      (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.equal(err.code, 'SY_ERR_STATE_UNWRITABLE');
        assert.equal(err.path, stateDir);
        assert.match(err.message, new RegExp(`${stateDir}: not a directory \\(ENOTDIR\\)`));
        return true;
      },
    );
  });

  it('refuses a state path that is a regular file with SY_ERR_STATE_UNWRITABLE', () => {
    const stateDir = join(tmp, 'afile');
    writeFileSync(stateDir, 'not a directory');
    assert.throws(() => SqliteStore.open(stateDir), { name: 'StoreError', code: 'SY_ERR_STATE_UNWRITABLE' });
  });

  it('refuses a database file that is not SQLite with SY_ERR_STATE_CORRUPT', () => {
    writeFileSync(join(tmp, 'state.db'), 'this is not a SQLite database, not even close; '.repeat(100));
    assert.throws(() => SqliteStore.open(tmp), { name: 'StoreError', code: 'SY_ERR_STATE_CORRUPT' });
  });

  it('passes its integrity check', () => {
    const store = SqliteStore.open(tmp);
    try {
      store.createRelease('web', 'v1', SPEC);
      assert.equal(store.integrityCheck(), 'ok');
    } finally {
      store.close();
    }
  });

  it('keeps every service, release, instance, deployment, step and event across close and reopen', () => {
    const first = SqliteStore.open(tmp);
    const release = first.createRelease('web', 'v1', SPEC);
    first.setStableRelease('web', release.id);
    first.createInstance({
      id: 'web-1-1', service: 'web', releaseId: release.id, ordinal: 1, address: '127.0.0.1:4001', pid: 42, state: 'ready',
    });
    const next = first.createRelease('web', 'v2', SPEC);
    const deployment = first.createDeployment({
      service: 'web', fromReleaseId: release.id, toReleaseId: next.id, strategy: 'rolling', kind: 'deploy', state: 'progressing',
    });
    first.saveSteps(deployment.id, [{ kind: 'start', params: { count: 1 } }]);
    first.updateStep(deployment.id, 0, { state: 'running', startedAt: '2025-01-01T00:00:00.000Z' });
    const event = first.addEvent({
      service: 'web', deploymentId: deployment.id, type: 'step.started', message: 'start 1', data: { n: 1 },
    });
    first.close();

    const second = SqliteStore.open(tmp);
    try {
      assert.deepEqual(second.listServices(), [{ name: 'web', stableReleaseId: release.id }]);
      assert.deepEqual(second.stableRelease('web'), release);
      assert.deepEqual(second.releases('web'), [next, release]);
      assert.equal(second.instance('web-1-1')?.address, '127.0.0.1:4001');
      assert.deepEqual(second.activeDeployments(), [deployment]);
      assert.equal(second.steps(deployment.id)[0]?.state, 'running');
      assert.deepEqual(second.events(), [event]);
    } finally {
      second.close();
    }
  });
});

describe('Store.transaction', () => {
  let tmp: string;
  let store: SqliteStore;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sy-store-'));
    store = SqliteStore.open(tmp);
  });
  afterEach(() => {
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('commits all its writes together and returns what the function returned', () => {
    const number = store.transaction(() => {
      store.createRelease('web', 'v1', SPEC);
      return store.createRelease('web', 'v2', SPEC).number;
    });
    assert.equal(number, 2);
    assert.equal(store.releases('web').length, 2);
  });

  it('rolls back every write when the function throws, and rethrows', () => {
    store.createRelease('web', 'v1', SPEC);
    assert.throws(
      () =>
        store.transaction(() => {
          store.createRelease('web', 'v2', SPEC);
          store.addEvent({ service: 'web', type: 'release.created', message: 'v2' });
          throw new Error('planner failed');
        }),
      /planner failed/,
    );
    assert.deepEqual(
      store.releases('web').map((r) => r.version),
      ['v1'],
    );
    assert.deepEqual(store.events(), []);
    assert.equal(store.createRelease('web', 'v3', SPEC).number, 2, 'the rolled-back number is free again');
  });

  it('rolls back only the inner transaction when an outer one catches its error', () => {
    store.transaction(() => {
      store.createRelease('web', 'v1', SPEC);
      assert.throws(() =>
        store.transaction(() => {
          store.createRelease('web', 'v2', SPEC);
          throw new Error('inner');
        }),
      );
    });
    assert.deepEqual(
      store.releases('web').map((r) => r.version),
      ['v1'],
    );
  });
});

describe('scaled instance counts', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'switchyard-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the count scale set across a restart, and null means the config decides', () => {
    const store = SqliteStore.open(dir);
    store.ensureService('web');
    assert.equal(store.scaledInstances('web'), null);
    store.setScaledInstances('web', 4);
    store.close();
    const reopened = SqliteStore.open(dir);
    assert.equal(reopened.scaledInstances('web'), 4);
    reopened.setScaledInstances('web', null);
    assert.equal(reopened.scaledInstances('web'), null);
    reopened.close();
  });
});

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './store.js';
import type { ReleaseSpec } from './rows.js';

const PROCESS: ReleaseSpec = { kind: 'process', command: 'node server.js', cwd: '/srv/web/v1', env: { APP_VERSION: 'v1' } };
const STATIC: ReleaseSpec = { kind: 'static', targets: ['10.0.0.5:3000', '10.0.0.6:3000'] };
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('releases and services', () => {
  let tmp: string;
  let store: SqliteStore;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sy-releases-'));
    store = SqliteStore.open(tmp);
  });
  afterEach(() => {
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('numbers releases 1, 2, 3… per service, each service independently', () => {
    const numbers = [
      store.createRelease('web', 'v1', PROCESS),
      store.createRelease('api', 'v1', STATIC),
      store.createRelease('web', 'v2', PROCESS),
      store.createRelease('web', 'v3', PROCESS),
      store.createRelease('api', 'v2', STATIC),
    ].map((r) => `${r.service}#${String(r.number)}`);
    assert.deepEqual(numbers, ['web#1', 'api#1', 'web#2', 'web#3', 'api#2']);
  });

  it('stores the run spec as given and reads it back by id', () => {
    const release = store.createRelease('web', 'v1', PROCESS);
    const targets = store.createRelease('edge', 'v1', STATIC);
    const expected = { id: release.id, service: 'web', number: 1, version: 'v1', spec: PROCESS, createdAt: release.createdAt };
    assert.deepEqual(store.release(release.id), expected);
    assert.deepEqual(store.release(targets.id)?.spec, STATIC);
    assert.match(release.createdAt, ISO_MS);
    assert.equal(store.release(9999), undefined);
  });

  it('lists a service’s releases newest first', () => {
    for (const v of ['v1', 'v2', 'v3']) store.createRelease('web', v, PROCESS);
    store.createRelease('api', 'v9', PROCESS);
    assert.deepEqual(
      store.releases('web').map((r) => r.version),
      ['v3', 'v2', 'v1'],
    );
    assert.deepEqual(store.releases('nobody'), []);
  });

  it('lets a version label repeat and finds its latest release', () => {
    store.createRelease('web', 'v1', PROCESS);
    store.createRelease('web', 'v2', PROCESS);
    const again = store.createRelease('web', 'v1', { ...PROCESS, env: { APP_VERSION: 'v1', FLAG: 'on' } });
    assert.equal(again.number, 3);
    assert.deepEqual(store.latestReleaseByVersion('web', 'v1'), again);
    assert.equal(store.latestReleaseByVersion('web', 'v7'), undefined);
    assert.equal(store.latestReleaseByVersion('api', 'v1'), undefined);
  });

  it('records a service on its first release, or when ensured, once', () => {
    store.ensureService('web');
    store.ensureService('web');
    store.createRelease('api', 'v1', PROCESS);
    assert.deepEqual(store.listServices(), [
      { name: 'api', stableReleaseId: null },
      { name: 'web', stableReleaseId: null },
    ]);
  });

  it('has no stable release until one is set, then returns it', () => {
    const v1 = store.createRelease('web', 'v1', PROCESS);
    const v2 = store.createRelease('web', 'v2', PROCESS);
    assert.equal(store.stableRelease('web'), undefined);
    assert.equal(store.stableRelease('nobody'), undefined);
    store.setStableRelease('web', v1.id);
    assert.deepEqual(store.stableRelease('web'), v1);
    store.setStableRelease('web', v2.id);
    assert.deepEqual(store.stableRelease('web'), v2);
    assert.deepEqual(store.listServices(), [{ name: 'web', stableReleaseId: v2.id }]);
  });

  it('refuses to make another service’s release stable', () => {
    const api = store.createRelease('api', 'v1', PROCESS);
    store.ensureService('web');
    assert.throws(() => store.setStableRelease('web', api.id), { name: 'StoreError', code: 'SY_ERR_STATE_NOT_FOUND' });
    assert.throws(() => store.setStableRelease('web', 9999), { code: 'SY_ERR_STATE_NOT_FOUND' });
    assert.equal(store.stableRelease('web'), undefined);
  });
});

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteStore } from './store.js';
import type { ReleaseRow, ReleaseSpec } from './rows.js';

const SPEC: ReleaseSpec = { kind: 'process', command: 'node server.js', cwd: '.', env: {} };

describe('instances', () => {
  let tmp: string;
  let store: SqliteStore;
  let web: ReleaseRow;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sy-instances-'));
    store = SqliteStore.open(tmp);
    web = store.createRelease('web', 'v1', SPEC);
  });
  afterEach(() => {
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  function start(id: string, release: ReleaseRow, ordinal: number, state: 'starting' | 'ready' = 'starting') {
    return store.createInstance({ id, service: release.service, releaseId: release.id, ordinal, address: null, pid: null, state });
  }

  /** An instance row of release v1 of web, starting, with an address and a pid. */
  function row(id: string) {
    return { id, service: 'web', releaseId: web.id, ordinal: 1, address: '127.0.0.1:4001', pid: 4242, state: 'starting' as const };
  }

  it('creates an instance with no restarts and reads it back', () => {
    const created = store.createInstance(row('web-1-1'));
    assert.deepEqual(created, { ...row('web-1-1'), restarts: 0, node: null, createdAt: created.createdAt, updatedAt: created.createdAt });
    assert.deepEqual(store.instance('web-1-1'), created);
    assert.equal(store.instance('nope'), undefined);
  });

  it('gives the next ordinal per release, from 1, never reusing one', () => {
    const v2 = store.createRelease('web', 'v2', SPEC);
    assert.equal(store.nextInstanceOrdinal(web.id), 1);
    start('a', web, store.nextInstanceOrdinal(web.id));
    start('b', web, store.nextInstanceOrdinal(web.id));
    assert.equal(store.nextInstanceOrdinal(web.id), 3);
    assert.equal(store.nextInstanceOrdinal(v2.id), 1);
    store.updateInstance('b', { state: 'stopped' });
    assert.equal(store.nextInstanceOrdinal(web.id), 3);
  });

  it('continues the ordinals of an earlier release with the same version label', () => {
    start('web-v1-1', web, store.nextInstanceOrdinal(web.id));
    const again = store.createRelease('web', 'v1', SPEC);
    assert.equal(store.nextInstanceOrdinal(again.id), 2);
    const other = store.createRelease('api', 'v1', SPEC);
    assert.equal(store.nextInstanceOrdinal(other.id), 1);
  });

  it('updates only the fields in the patch, clears with null, and bumps updatedAt', async () => {
    const created = store.createInstance({ ...row('i'), pid: 7 });
    await sleep(5);
    const ready = store.updateInstance('i', { state: 'ready' });
    assert.equal(ready.state, 'ready');
    assert.equal(ready.address, '127.0.0.1:4001');
    assert.equal(ready.pid, 7);
    assert.ok(ready.updatedAt > created.updatedAt);
    assert.equal(ready.createdAt, created.createdAt);

    const stopped = store.updateInstance('i', { state: 'stopped', pid: null, restarts: 2 });
    assert.deepEqual([stopped.state, stopped.pid, stopped.restarts, stopped.address], ['stopped', null, 2, '127.0.0.1:4001']);
    assert.deepEqual(store.instance('i'), stopped);
  });

  it('refuses to update an instance that does not exist', () => {
    assert.throws(() => store.updateInstance('ghost', { state: 'ready' }), { name: 'StoreError', code: 'SY_ERR_STATE_NOT_FOUND' });
  });

  it('filters instances by service, release and states, ordered by release then ordinal', () => {
    const v2 = store.createRelease('web', 'v2', SPEC);
    const api = store.createRelease('api', 'v1', SPEC);
    start('web-2-1', v2, 1, 'ready');
    start('web-1-2', web, 2, 'ready');
    start('web-1-1', web, 1);
    start('api-1-1', api, 1, 'ready');
    store.updateInstance('web-1-1', { state: 'draining' });

    const ids = (filter?: Parameters<SqliteStore['instances']>[0]) => store.instances(filter).map((i) => i.id);
    assert.deepEqual(ids(), ['web-1-1', 'web-1-2', 'web-2-1', 'api-1-1']);
    assert.deepEqual(ids({ service: 'web' }), ['web-1-1', 'web-1-2', 'web-2-1']);
    assert.deepEqual(ids({ releaseId: web.id }), ['web-1-1', 'web-1-2']);
    assert.deepEqual(ids({ service: 'web', states: ['ready'] }), ['web-1-2', 'web-2-1']);
    assert.deepEqual(ids({ states: ['draining', 'stopped'] }), ['web-1-1']);
    assert.deepEqual(ids({ states: [] }), []);
  });

  it('refuses an instance of an unknown release or of another service’s release (foreign keys are on)', () => {
    assert.throws(() => store.createInstance({ ...row('x'), releaseId: 9999 }), /FOREIGN KEY/);
    const api = store.createRelease('api', 'v1', SPEC);
    assert.throws(() => store.createInstance({ ...row('y'), releaseId: api.id }), /FOREIGN KEY/);
  });
});

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './store.js';
import type { EventRow } from './rows.js';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('events', () => {
  let tmp: string;
  let store: SqliteStore;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sy-events-'));
    store = SqliteStore.open(tmp);
  });
  afterEach(() => {
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const ids = (rows: EventRow[]) => rows.map((e) => e.id);

  it('stores an event with its JSON data and reads it back', () => {
    const data = { weights: { v1: 75, v2: 25 }, reasons: ['p99 ok'], ratio: 0.25, ok: true };
    const event = { service: 'web', deploymentId: 3, instanceId: 'web-2-1', type: 'step.done', message: 'shifted 25%', data };
    const added = store.addEvent(event);
    assert.deepEqual(added, { id: added.id, time: added.time, ...event });
    assert.match(added.time, ISO_MS);
    assert.deepEqual(store.events(), [added]);
  });

  it('fills in null for what an event leaves out', () => {
    const added = store.addEvent({ type: 'daemon.started', message: 'switchyard up' });
    assert.deepEqual(
      [added.service, added.deploymentId, added.instanceId, added.data],
      [null, null, null, null],
    );
  });

  it('filters by service and by deployment, oldest first', () => {
    const a = store.addEvent({ service: 'web', deploymentId: 1, type: 't', message: '1' });
    const b = store.addEvent({ service: 'api', deploymentId: 2, type: 't', message: '2' });
    const c = store.addEvent({ service: 'web', type: 't', message: '3' });
    const d = store.addEvent({ service: 'web', deploymentId: 1, type: 't', message: '4' });
    assert.deepEqual(ids(store.events()), ids([a, b, c, d]));
    assert.deepEqual(ids(store.events({ service: 'web' })), ids([a, c, d]));
    assert.deepEqual(ids(store.events({ deploymentId: 1 })), ids([a, d]));
    assert.deepEqual(ids(store.events({ service: 'api', deploymentId: 1 })), []);
    assert.deepEqual(ids(store.events({ service: 'nobody' })), []);
  });

  it('returns the events after an id, oldest first, up to the limit', () => {
    const all = Array.from({ length: 10 }, (_, i) =>
      store.addEvent({ service: i % 2 ? 'web' : 'api', type: 't', message: String(i) }),
    );
    const after = all[3]?.id ?? 0;
    assert.deepEqual(ids(store.events({ afterId: after })), ids(all.slice(4)));
    assert.deepEqual(ids(store.events({ afterId: after, limit: 2 })), ids(all.slice(4, 6)));
    assert.deepEqual(ids(store.events({ afterId: after, service: 'web' })), ids(all.slice(4).filter((e) => e.service === 'web')));
    assert.deepEqual(store.events({ afterId: all[9]?.id ?? 0 }), []);
  });

  it('returns the last N events, still oldest first, when no afterId is given', () => {
    const all = Array.from({ length: 10 }, (_, i) => store.addEvent({ service: 'web', type: 't', message: String(i) }));
    assert.deepEqual(ids(store.events({ limit: 3 })), ids(all.slice(7)));
    assert.deepEqual(ids(store.events({ service: 'web', limit: 1 })), ids(all.slice(9)));
    assert.deepEqual(store.events({ limit: 0 }), []);
  });

  it('returns at most 500 events by default: the last 500', () => {
    store.transaction(() => {
      for (let i = 0; i < 600; i++) store.addEvent({ type: 't', message: String(i) });
    });
    const events = store.events();
    assert.equal(events.length, 500);
    assert.deepEqual([events[0]?.message, events[499]?.message], ['100', '599']);
    assert.equal(store.events({ afterId: 0 }).length, 500);
    assert.equal(store.events({ afterId: 0 })[0]?.message, '0');
  });

  it('tells subscribers about each event synchronously, after it is stored', () => {
    const seen: EventRow[] = [];
    const storedWhenSeen: boolean[] = [];
    store.subscribe((event) => {
      seen.push(event);
      storedWhenSeen.push(store.events({ afterId: event.id - 1 })[0]?.id === event.id);
    });
    const added = store.addEvent({ service: 'web', type: 'deployment.started', message: 'v2', data: { n: 1 } });
    assert.deepEqual(seen, [added]);
    assert.deepEqual(storedWhenSeen, [true]);
  });

  it('stops telling a subscriber once it unsubscribes, and keeps telling the others', () => {
    const first: string[] = [];
    const second: string[] = [];
    const unsubscribe = store.subscribe((e) => first.push(e.message));
    store.subscribe((e) => second.push(e.message));
    store.addEvent({ type: 't', message: 'one' });
    unsubscribe();
    unsubscribe();
    store.addEvent({ type: 't', message: 'two' });
    assert.deepEqual(first, ['one']);
    assert.deepEqual(second, ['one', 'two']);
  });

  it('holds back events written in a transaction until it commits, and drops them if it rolls back', () => {
    const seen: string[] = [];
    store.subscribe((e) => seen.push(e.message));
    store.transaction(() => {
      store.addEvent({ type: 't', message: 'committed' });
      assert.deepEqual(seen, []);
    });
    assert.deepEqual(seen, ['committed']);
    assert.throws(() =>
      store.transaction(() => {
        store.addEvent({ type: 't', message: 'rolled back' });
        throw new Error('abort');
      }),
    );
    assert.deepEqual(seen, ['committed']);
  });

  it('still stores the event and tells the other subscribers when one subscriber throws', async () => {
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const seen: string[] = [];
    store.subscribe(() => {
      throw new Error('listener broke');
    });
    store.subscribe((e) => seen.push(e.message));
    const added = store.addEvent({ type: 't', message: 'hello' });
    assert.deepEqual(seen, ['hello']);
    assert.deepEqual(store.events(), [added]);
    assert.match((await warned).message, /listener broke/);
  });
});

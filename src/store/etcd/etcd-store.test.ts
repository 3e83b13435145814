// EtcdStore against a real etcd on loopback: the same answers as the SQLite store, writes that reach a
// second host's mirror, transactions that land whole, fencing, and watches that recover from compaction.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ETCD_INSTALLED, NO_ETCD, startEtcd, type EtcdCluster } from '../../../test/helpers/etcd.js';
import { waitFor } from '../../../test/helpers/wait.js';
import type { EventRow } from '../rows.js';
import { EtcdStore } from './etcd-store.js';

const spec = { kind: 'process' as const, command: 'node server.js', cwd: '.', env: {} };

describe('EtcdStore', { skip: ETCD_INSTALLED ? false : NO_ETCD }, () => {
  let etcd: EtcdCluster;
  const stores: EtcdStore[] = [];
  let prefixCount = 0;
  const open = async (prefix: string, node = 'h1', probeMs?: number) => {
    const store = await EtcdStore.open({ endpoints: etcd.endpoints, prefix, node, probeMs });
    stores.push(store);
    return store;
  };
  const freshPrefix = () => `/sy-test-${++prefixCount}/`;

  before(async () => {
    etcd = await startEtcd(1);
  });
  after(async () => {
    for (const store of stores) store.close();
    await etcd?.stop();
  });

  it('answers reads at once from its mirror, as the SQLite store does', async () => {
    const store = await open(freshPrefix());
    const first = store.createRelease('web', 'v1', spec);
    const second = store.createRelease('web', 'v2', spec);
    assert.deepEqual([first.number, second.number], [1, 2]);
    store.setStableRelease('web', second.id);
    assert.equal(store.stableRelease('web')?.version, 'v2');
    const deployment = store.createDeployment({ service: 'web', fromReleaseId: first.id, toReleaseId: second.id, strategy: 'rolling', kind: 'deploy', state: 'pending' });
    store.saveSteps(deployment.id, [{ kind: 'start', params: { count: 2 } }, { kind: 'route', params: {} }]);
    store.updateStep(deployment.id, 0, { state: 'running', undo: { kind: 'stop-instances', instances: ['web-v2-1'] } });
    assert.deepEqual(store.steps(deployment.id).map((s) => [s.state, s.undo]), [['running', { kind: 'stop-instances', instances: ['web-v2-1'] }], ['pending', null]]);
    assert.deepEqual(store.activeDeployments().map((d) => d.id), [deployment.id]);
    await store.flush();
  });

  it('makes one host’s writes every other host’s state, once flushed', async () => {
    const prefix = freshPrefix();
    const leader = await open(prefix, 'h1');
    const other = await open(prefix, 'h2');
    const release = leader.createRelease('api', 'v7', spec);
    leader.setScaledInstances('api', 4);
    leader.setRouting('api', { inRotation: ['api-v7-1'], weights: [[release.id, 100]], previewRelease: null, rules: [] });
    leader.createInstance({ id: 'api-v7-1', service: 'api', releaseId: release.id, ordinal: 1, address: '10.0.0.2:4000', pid: 12, state: 'ready' });
    await leader.flush();
    await waitFor(() => other.routing('api') !== null && other.instance('api-v7-1') !== undefined, { message: 'the second mirror to catch up' });
    assert.equal(other.release(release.id)?.version, 'v7');
    assert.equal(other.scaledInstances('api'), 4);
    assert.deepEqual(other.routing('api')?.weights, [[release.id, 100]]);
    assert.equal(other.instance('api-v7-1')?.address, '10.0.0.2:4000');
    // A host opened later lists everything.
    const late = await open(prefix, 'h3');
    assert.equal(late.stableRelease('api'), undefined);
    assert.equal(late.releases('api').length, 1);
  });

  it('lands a transaction whole: a reader never sees half of one', async () => {
    const prefix = freshPrefix();
    const writer = await open(prefix, 'h1');
    const reader = await open(prefix, 'h2');
    const release = writer.createRelease('web', 'v1', spec);
    const seen: string[] = [];
    writer.transaction(() => {
      const d = writer.createDeployment({ service: 'web', fromReleaseId: null, toReleaseId: release.id, strategy: 'rolling', kind: 'deploy', state: 'pending' });
      writer.saveSteps(d.id, [{ kind: 'start', params: {} }]);
      writer.setStableRelease('web', release.id);
    });
    await writer.flush();
    await waitFor(() => {
      const d = reader.activeDeployments()[0];
      seen.push(`${d === undefined ? '-' : 'd'}${reader.stableRelease('web') === undefined ? '-' : 's'}`);
      return d !== undefined && reader.steps(d.id).length === 1 && reader.stableRelease('web') !== undefined;
    }, { interval: 1, message: 'the transaction to arrive' });
    assert.ok(seen.every((s) => s === '--' || s === 'ds'), `saw a half transaction: ${seen.join(' ')}`);
  });

  it('rolls back a transaction that throws: nothing reaches etcd or the mirror', async () => {
    const prefix = freshPrefix();
    const writer = await open(prefix, 'h1');
    assert.throws(() =>
      writer.transaction(() => {
        writer.createRelease('web', 'v1', spec);
        throw new Error('changed my mind');
      }),
    );
    assert.equal(writer.releases('web').length, 0);
    await writer.flush();
    const fresh = await open(prefix, 'h2');
    assert.equal(fresh.listServices().length, 0);
  });

  it('keeps every event of one transaction, each with its own id, in the order written', async () => {
    const prefix = freshPrefix();
    const h1 = await open(prefix, 'h1');
    const h2 = await open(prefix, 'h2');
    h1.transaction(() => {
      for (let i = 1; i <= 5; i++) h1.addEvent({ service: 'web', type: 'step.started', message: `step ${i}` });
    });
    await h1.flush();
    await waitFor(() => h2.events().length === 5 && h1.events().length === 5, { message: 'all five events on both hosts' });
    assert.deepEqual(h2.events().map((e) => e.message), ['step 1', 'step 2', 'step 3', 'step 4', 'step 5']);
    assert.deepEqual(h1.events().map((e) => e.id), h2.events().map((e) => e.id));
    // A host that lists the prefix afresh numbers them the same.
    const h3 = await open(prefix, 'h3');
    assert.deepEqual(h3.events().map((e) => e.id), h1.events().map((e) => e.id));
  });

  it('numbers events by etcd revision and tells subscribers once they are stored', async () => {
    const prefix = freshPrefix();
    const h1 = await open(prefix, 'h1');
    const h2 = await open(prefix, 'h2');
    const heard: EventRow[] = [];
    h2.subscribe((e) => heard.push(e));
    h1.addEvent({ service: 'web', type: 'deployment.progressing', message: 'from h1', data: { step: 1 } });
    h2.addEvent({ service: 'web', type: 'instance.ready', message: 'from h2', instanceId: 'web-v1-1' });
    await Promise.all([h1.flush(), h2.flush()]);
    await waitFor(() => heard.length === 2 && h1.events().length === 2, { message: 'both events on both hosts' });
    assert.deepEqual(h1.events().map((e) => e.id), h2.events().map((e) => e.id));
    assert.ok(heard[0]!.id < heard[1]!.id);
    assert.deepEqual(h1.events({ service: 'web' }).find((e) => e.message === 'from h1')?.data, { step: 1 });
    assert.equal(h1.events({ afterId: heard[0]!.id }).length, 1);
  });

  it('refuses every write once the leader key it is fenced by is gone, and never lets one land', async () => {
    const prefix = freshPrefix();
    const leaderKey = `${prefix}leader`;
    const store = await open(prefix, 'h1');
    const put = await store.client.put(leaderKey).value('h1').exec();
    const created = Number(put.header.revision);
    store.setFence({ key: leaderKey, createRevision: created });
    store.ensureService('web');
    await store.flush();
    // Each fenced transaction records the fence it was sent under, for an auditor of the history.
    const writer = await store.client.get(`${prefix}writer`).json();
    assert.deepEqual(writer, { fence: created });
    // Another controller won: the key was deleted and created again (a new create revision).
    await store.client.delete().key(leaderKey).exec();
    await store.client.put(leaderKey).value('h2').exec();
    store.setScaledInstances('web', 3);
    await assert.rejects(store.flush(), (err: Error & { code?: string }) => err.code === 'SY_ERR_FENCED');
    assert.throws(() => store.setScaledInstances('web', 5), (err: Error & { code?: string }) => err.code === 'SY_ERR_FENCED');
    assert.equal(store.refusedWrites, 1);
    const observer = await open(prefix, 'h3');
    assert.equal(observer.scaledInstances('web'), null, 'the fenced write landed');
    // The deposed store's own mirror took the write before etcd refused it; it must not keep it.
    await waitFor(() => store.scaledInstances('web') === null, { timeout: 10_000, message: "the deposed store's mirror to drop the refused write" });
  });

  it('re-lists when the history its watch needs to resume was compacted, and misses nothing', async () => {
    const prefix = freshPrefix();
    const writer = await open(prefix, 'h1');
    const watcher = await open(prefix, 'h2', 60_000);
    writer.createRelease('web', 'v1', spec);
    await writer.flush();
    await waitFor(() => watcher.releases('web').length === 1, { message: 'the first release on the watcher' });
    await watcher.feed.pause(); // a broken stream…
    for (let i = 2; i <= 5; i++) writer.createRelease('web', `v${i}`, spec);
    await writer.flush();
    const head = await writer.client.get(`${prefix}services/web`).exec();
    await writer.client.kv.compact({ revision: head.header.revision, physical: true }); // …whose history is gone
    await watcher.feed.resume();
    await waitFor(() => watcher.releases('web').length === 5, { message: 'the watcher to re-list' });
    assert.equal(watcher.feed.relists.get('compacted'), 1);
  });

  it('names the revision of the newest desired-state change it heard, not a later report of a host', async () => {
    const prefix = freshPrefix();
    const writer = await open(prefix, 'h1');
    const watcher = await open(prefix, 'h2', 60_000);
    const heard: number[] = [];
    watcher.onTablesChanged((revision) => heard.push(revision));
    await watcher.feed.pause();
    writer.createRelease('web', 'v1', spec);
    await writer.flush();
    const changedAt = writer.committedRevision;
    // A host's report lands after it, before the watch delivers: both come in one response.
    await writer.client.put(`${prefix}hosts/h9/status`).value('{}').exec();
    await watcher.feed.resume();
    await waitFor(() => heard.length > 0, { message: 'the watcher to hear the change' });
    assert.deepEqual(heard, [changedAt], 'every host that has this state names the same revision');
  });

  it('names the same revision after a re-list as its watch did, a leader\'s deletion included', async () => {
    const prefix = freshPrefix();
    const leaderKey = `${prefix}leader`;
    const writer = await open(prefix, 'h1');
    const created = Number((await writer.client.put(leaderKey).value('h1').exec()).header.revision);
    writer.setFence({ key: leaderKey, createRevision: created });
    const watcher = await open(prefix, 'h2', 60_000);
    const release = writer.createRelease('web', 'v1', spec);
    writer.endRollbackWindow('web', release.id, 'the contract migration ran');
    await writer.flush();
    writer.reopenRollbackWindow(release.id); // deletes the key: a listing cannot show it
    await writer.flush();
    const deletedAt = writer.committedRevision;
    await waitFor(() => watcher.tablesRevision === deletedAt, { message: 'the watch to deliver the deletion' });
    // Other hosts report after it; then the watcher lists everything again (as after a compaction).
    await writer.client.put(`${prefix}hosts/h9/status`).value('{}').exec();
    const heard: number[] = [];
    watcher.onTablesChanged((revision) => heard.push(revision));
    await watcher.feed.relist('stalled');
    assert.ok(watcher.revision > deletedAt, 'the listing is at a later revision');
    assert.deepEqual(heard, [deletedAt], 'the same revision as the hosts whose watch never broke');
    assert.equal(watcher.tablesRevision, deletedAt);
  });

  it('re-lists a watch that stopped delivering while etcd moved on (a stalled stream)', async () => {
    const prefix = freshPrefix();
    const writer = await open(prefix, 'h1');
    const watcher = await open(prefix, 'h2', 100);
    await watcher.feed.pause(); // silent, as a stream to a cut member is: no error, no data
    writer.createRelease('web', 'v1', spec);
    await writer.flush();
    await waitFor(() => watcher.releases('web').length === 1, { message: 'the probe to notice and re-list' });
    assert.equal(watcher.feed.relists.get('stalled'), 1);
  });
});

// Leader election against a real etcd: one leader at a time, a quick hand-over when it leaves or dies,
// and a leader paused past its lease (SIGSTOP, as a long GC pause) that stands down when it wakes and
// never gets a write past the fence.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { ETCD_INSTALLED, NO_ETCD, startEtcd, type EtcdCluster } from '../../test/helpers/etcd.js';
import { waitFor } from '../../test/helpers/wait.js';
import { createEtcdClient } from '../store/etcd/etcd-client.js';
import { LeaderElection } from './leader-election.js';

const CANDIDATE = new URL('../../test/fixtures/cluster/candidate.ts', import.meta.url).pathname;

interface Candidate {
  child: ChildProcess;
  lines: Record<string, unknown>[];
}

function candidate(endpoint: string, prefix: string, node: string, ttl: number, mode = 'honest'): Candidate {
  const child = spawn(process.execPath, ['--import', 'tsx', CANDIDATE, endpoint, prefix, node, String(ttl), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  return { child, lines };
}

/**
 * Waits for a candidate's `event`, counting from when its process runs: starting a TypeScript child on a
 * loaded machine (the cluster suites run beside this one) can take seconds, and is not what is tested.
 */
async function until(c: Candidate, event: string, message: string, timeout = 10_000): Promise<void> {
  await waitFor(() => c.lines.some((l) => l.event === 'campaigning'), { timeout: 60_000, message: `${message}: its process to start` });
  await waitFor(() => c.lines.some((l) => l.event === event), { timeout, message });
}

describe('leader election', { skip: ETCD_INSTALLED ? false : NO_ETCD }, () => {
  let etcd: EtcdCluster;
  const children: ChildProcess[] = [];
  let prefixCount = 0;
  const freshPrefix = () => `/sy-election-${++prefixCount}/`;

  before(async () => {
    etcd = await startEtcd(1);
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await etcd?.stop();
  });

  it('elects one of two hosts, and the other once the first steps down', async () => {
    const client = createEtcdClient({ endpoints: etcd.endpoints });
    const key = `${freshPrefix()}leader`;
    const events: string[] = [];
    const make = (node: string) =>
      new LeaderElection({ client, key, node, ttlSeconds: 2, onElected: () => events.push(`${node} elected`), onDeposed: (why) => events.push(`${node} deposed: ${why}`) });
    const a = make('a');
    const b = make('b');
    a.start();
    await waitFor(() => a.isLeader, { message: 'a to lead' });
    b.start();
    // b keeps campaigning for longer than a lease: a renews, so b never wins.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.deepEqual(events, ['a elected']);
    assert.equal(b.isLeader, false);
    const handedOverAt = Date.now();
    await a.stop();
    await waitFor(() => b.isLeader, { message: 'b to lead' });
    assert.ok(Date.now() - handedOverAt < 1500, `hand-over took ${Date.now() - handedOverAt} ms`);
    assert.equal((await client.get(key).string()), 'b');
    await b.stop();
    client.close();
  });

  it('replaces a leader that was SIGKILLed within its lease TTL', async () => {
    const prefix = freshPrefix();
    const first = candidate(etcd.endpoints[0]!, prefix, 'h1', 2);
    children.push(first.child);
    await until(first, 'elected', 'h1 to lead');
    const second = candidate(etcd.endpoints[0]!, prefix, 'h2', 2);
    children.push(second.child);
    // The clock starts once h2 campaigns: its start-up (seconds on a loaded machine) is no failover time.
    await waitFor(() => second.lines.some((l) => l.event === 'campaigning'), { timeout: 30_000, message: 'h2 to campaign' });
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    await until(second, 'elected', 'h2 to lead', 15_000);
    const took = Date.now() - killedAt;
    assert.ok(took < 2000 + 1500, `failover took ${took} ms with a 2 s lease`);
  });

  it('makes a leader paused past its lease stand down when it wakes, with no write of it accepted after', async () => {
    const prefix = freshPrefix();
    const client = createEtcdClient({ endpoints: etcd.endpoints });
    const old = candidate(etcd.endpoints[0]!, prefix, 'h1', 2);
    children.push(old.child);
    await until(old, 'elected', 'h1 to lead');
    const written = async (node: string) => (await client.get(`${prefix}services/${node}`).exec()).kvs[0];
    await waitFor(async () => Number((await written('h1'))?.mod_revision ?? 0) > 0 && (await client.get(`${prefix}services/h1`).json() as { instances: number | null }).instances! > 3, { message: 'h1 to be writing' });
    const next = candidate(etcd.endpoints[0]!, prefix, 'h2', 2);
    children.push(next.child);
    old.child.kill('SIGSTOP');
    await until(next, 'elected', 'h2 to lead', 15_000);
    const newTerm = Number(next.lines.find((l) => l.event === 'elected')!.createRevision);
    old.child.kill('SIGCONT');
    await waitFor(() => old.lines.some((l) => l.event === 'deposed'), { message: 'h1 to stand down' });
    // The new leader writes on (so a landed write would show); once h1 stood down it sends nothing more,
    // and what it sent before the pause reached etcd before h2 could be elected.
    await waitFor(async () => Number((await written('h2'))?.mod_revision ?? 0) > newTerm, { message: 'h2 to write' });
    const last = Number((await written('h1'))!.mod_revision);
    assert.ok(last < newTerm, `a write of the deposed leader landed at revision ${last}, after the new term began at ${newTerm}`);
    client.close();
  });

  it('refuses every write of a paused leader that wakes and writes on as if it still led: the fence alone holds', async () => {
    const prefix = freshPrefix();
    const client = createEtcdClient({ endpoints: etcd.endpoints });
    const old = candidate(etcd.endpoints[0]!, prefix, 'h1', 2, 'rogue');
    children.push(old.child);
    await until(old, 'elected', 'h1 to lead');
    const scaled = async (node: string) => {
      const kv = (await client.get(`${prefix}services/${node}`).exec()).kvs[0];
      return kv === undefined ? null : { revision: Number(kv.mod_revision), instances: (JSON.parse(kv.value.toString()) as { instances: number | null }).instances ?? 0 };
    };
    await waitFor(async () => ((await scaled('h1'))?.instances ?? 0) > 3, { message: 'h1 to be writing' });
    const next = candidate(etcd.endpoints[0]!, prefix, 'h2', 2);
    children.push(next.child);
    old.child.kill('SIGSTOP');
    await until(next, 'elected', 'h2 to lead', 15_000);
    const newTerm = Number(next.lines.find((l) => l.event === 'elected')!.createRevision);
    old.child.kill('SIGCONT');
    // The rogue writes on after waking; etcd refuses each of its transactions.
    await waitFor(() => old.lines.filter((l) => l.event === 'write-refused').length >= 3, { timeout: 10_000, message: 'h1 to be refused three times' });
    await waitFor(async () => ((await scaled('h2'))?.revision ?? 0) > newTerm, { message: 'h2 to write' });
    const last = (await scaled('h1'))!;
    assert.ok(last.revision < newTerm, `a write of the deposed leader landed at revision ${last.revision}, after the new term began at ${newTerm}`);
    old.child.kill('SIGKILL');
    client.close();
  });
});

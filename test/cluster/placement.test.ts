// placement: perHost in cluster mode: `instances` counts per live host, at each deploy and scale and
// when a host joins, so every proxy host runs its own share of the app (real etcd on loopback,
// `switchyard up` hosts as child processes).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterHost, instancesByHost, untilView } from '../helpers/cluster.js';
import { tempDir, type TempDir } from '../helpers/daemon.js';
import { ETCD_INSTALLED, NO_ETCD, startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { waitFor } from '../helpers/wait.js';

describe('placement perHost in a cluster', { skip: ETCD_INSTALLED ? false : NO_ETCD }, () => {
  let etcd: EtcdCluster;
  let tmp: TempDir;
  const hosts: ClusterHost[] = [];

  before(async () => {
    etcd = await startEtcd(1);
    tmp = await tempDir('switchyard-placement-');
    hosts.push(await ClusterHost.start({ tmp, etcd: etcd.endpoints, node: 'p1', instances: 1, placement: 'perHost' }));
    // Alone, the first host runs one instance: one per live host.
    await untilView(hosts[0]!, (v) => (instancesByHost(v).p1?.length ?? 0) === 1, 'p1 to run v1');
    hosts.push(await ClusterHost.start({ tmp, etcd: etcd.endpoints, node: 'p2', instances: 1, placement: 'perHost' }));
    for (const host of hosts) await untilView(host, (v) => v.hosts.filter((h) => h.live).length === 2, `${host.node} to see 2 live hosts`);
  });

  after(async () => {
    for (const host of hosts) await host.close().catch(() => {});
    await etcd?.stop();
    await tmp?.remove();
  });

  const onEach = (version: string, count: number) => (v: Parameters<typeof instancesByHost>[0]) => {
    const byHost = instancesByHost(v);
    return Object.keys(byHost).length === 2 && Object.values(byHost).every((list) => list.length === count && list.every((i) => i.id.includes(`-${version}-`)));
  };

  it('deploys as many instances as there are live hosts, one on each, and scales per host', async () => {
    const deployment = await hosts[1]!.deploy({ version: 'v2' });
    const done = await waitFor(async () => {
      const d = await hosts[1]!.deployment(deployment.id);
      return d !== undefined && ['succeeded', 'rolled-back', 'failed'].includes(d.state) ? d : undefined;
    }, { timeout: 90_000, message: 'the deployment of v2 to finish' });
    assert.equal(done.state, 'succeeded', `${done.reason}`);
    await untilView(hosts[0]!, onEach('v2', 1), 'one v2 instance on each host');

    const scaled = await hosts[0]!.api<{ from: number; to: number }>('POST', '/api/v1/services/web/scale', { instances: 2 });
    assert.deepEqual(scaled, { status: 200, body: { from: 2, to: 4 } });
    await untilView(hosts[1]!, onEach('v2', 2), 'two v2 instances on each host');
  });

  it('starts its share on a host that joins, without a deploy', async () => {
    hosts.push(await ClusterHost.start({ tmp, etcd: etcd.endpoints, node: 'p3', instances: 1, placement: 'perHost' }));
    const view = await untilView(hosts[2]!, (v) => {
      const byHost = instancesByHost(v);
      return Object.keys(byHost).length === 3 && Object.values(byHost).every((list) => list.length === 2 && list.every((i) => i.id.includes('-v2-')));
    }, 'two v2 instances on each of three hosts, p3 included', 60_000);
    assert.equal(view.hosts.filter((h) => h.live).length, 3);
  });
});

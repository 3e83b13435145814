// Cluster mode end to end: real etcd on loopback and three `switchyard up` hosts sharing one desired state.
// Every host's proxy routes to instances on every host; a rolling deploy across the cluster fails no
// request; a host that dies (every process SIGKILLed, the controller leader among them, mid-deploy) leaves
// every table within its lease TTL, and another host's controller takes over and finishes the deployment.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import type { ClusterDaemonView } from '../../src/api/daemon-view.js';
import type { RoutingView } from '../../src/api/wire.js';
import { ClusterHost, instancesByHost, untilView } from '../helpers/cluster.js';
import { runCli, tempDir, type TempDir } from '../helpers/daemon.js';
import { ETCD_INSTALLED, NO_ETCD, startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { Load, type LoadReport } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';
import { CHROMIUM, launchChromium } from '../dashboard/browser.js';

const LEASE_TTL_MS = 2000;

function failures(report: LoadReport): string {
  return report.failures.slice(0, 5).map((o) => `${o.method} ${o.status ?? ''} ${o.error}: ${o.detail ?? ''}`).join('\n');
}

function versionsOf(view: ClusterDaemonView): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [node, instances] of Object.entries(instancesByHost(view))) out[node] = instances.map((i) => i.id);
  return out;
}

function processGroup(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return -1;
  }
}

function startLoads(hosts: ClusterHost[], slowWorkers = 0): Load[] {
  // Bounded: it stops by itself after 90 s or 20 000 requests per proxy.
  return hosts.map((h) => Load.start({ url: h.proxyUrl, workers: 2, slowWorkers, slowMs: 1500, pauseMs: 5, maxRequests: 20_000, maxDurationMs: 90_000, timeoutMs: 10_000 }));
}

describe('cluster mode', { skip: ETCD_INSTALLED ? false : NO_ETCD }, () => {
  let etcd: EtcdCluster;
  let tmp: TempDir;
  const hosts: ClusterHost[] = [];

  before(async () => {
    etcd = await startEtcd(1);
    tmp = await tempDir('switchyard-cluster-');
    // The first host brings the first release up on its own; the others join it.
    hosts.push(await ClusterHost.start({ tmp, etcd: etcd.endpoints, node: 'h1' }));
    await untilView(hosts[0]!, (v) => (instancesByHost(v).h1?.length ?? 0) === 3, 'h1 to run v1');
    hosts.push(...(await Promise.all(['h2', 'h3'].map((node) => ClusterHost.start({ tmp, etcd: etcd.endpoints, node })))));
    for (const host of hosts) await untilView(host, (v) => v.hosts.filter((h) => h.live).length === 3, `${host.node} to see 3 live hosts`);
  });

  after(async () => {
    for (const host of hosts) await host.close().catch(() => {});
    await etcd?.stop();
    await tmp?.remove();
  });

  /** The hosts still running, once every one is live and one leads: the leader and another. */
  async function leaderAndFollower(): Promise<{ leader: ClusterHost; follower: ClusterHost }> {
    const live = hosts.filter((h) => h.processes().length > 0);
    const view = await untilView(live[0]!, (v) => v.leader !== null && v.hosts.filter((h) => h.live).length === live.length, 'every host left live, and a leader');
    const leader = live.find((h) => h.node === view.leader)!;
    return { leader, follower: live.find((h) => h !== leader)! };
  }

  it('routes from every host to healthy instances on every host, and deploys across the cluster without a failed request', async () => {
    // Slow requests are always in flight on every proxy: an instance stops only once every host drained it.
    const loads = startLoads(hosts, 1);
    // Any host takes the command: a follower forwards it to the leader.
    const leader = (await hosts[0]!.cluster()).leader;
    const follower = hosts.find((h) => h.node !== leader)!;
    const deployment = await follower.deploy({ version: 'v2' });
    const done = await waitFor(async () => {
      const d = await follower.deployment(deployment.id);
      return d !== undefined && ['succeeded', 'rolled-back', 'failed'].includes(d.state) ? d : undefined;
    }, { timeout: 90_000, message: 'the deployment of v2 to finish' });
    const reports = await Promise.all(loads.map((l) => l.stop()));
    assert.equal(done.state, 'succeeded', `${done.reason}`);
    for (const [i, report] of reports.entries()) {
      assert.equal(report.failed, 0, `${hosts[i]!.node}'s proxy: ${report.failed} of ${report.outcomes.length} failed\n${failures(report)}`);
      assert.ok((report.versions.v2 ?? 0) > 0, `${hosts[i]!.node}'s proxy never served v2`);
    }

    // The new release spread over the hosts, and every host converged on one revision.
    const view = await untilView(hosts[0]!, (v) => Object.values(instancesByHost(v)).every((list) => list.length === 1 && list[0]!.id.includes('-v2-')), 'one v2 instance on each host');
    const revisions = await Promise.all(hosts.map(async (h) => (await untilView(h, (v) => v.revision >= view.revision, `${h.node} at revision ${view.revision}`)).revision));
    assert.ok(revisions.every((r) => r >= view.revision), `revisions ${revisions.join(', ')}`);

    // Each proxy answers from instances on every host (cross-host endpoints), not only its own.
    const hostOfPid = new Map<number, string>();
    for (const [node, instances] of Object.entries(instancesByHost(view))) for (const i of instances) if (i.pid !== null) hostOfPid.set(i.pid, node);
    for (const host of hosts) {
      const routing = (await host.api<RoutingView>('GET', '/api/v1/routing')).body;
      const endpoints = routing.services.web?.releases.flatMap((r) => r.endpoints.filter((e) => e.available)) ?? [];
      assert.equal(endpoints.length, 3, `${host.node} routes to ${JSON.stringify(endpoints)}; cluster: ${JSON.stringify(versionsOf(view))}`);
      const load = Load.start({ url: host.proxyUrl, workers: 1, maxRequests: 30, maxDurationMs: 20_000 });
      const report = await waitFor(async () => (load.outcomes.length >= 30 ? load.stop() : undefined), { timeout: 20_000, message: '30 requests' });
      // The app may run under a shell: its process group is the instance's pid.
      const served = new Set(report.outcomes.map((o) => hostOfPid.get(processGroup(o.pid ?? -1)) ?? `unknown pid ${o.pid}`));
      assert.deepEqual([...served].sort(), ['h1', 'h2', 'h3'], `${host.node}'s proxy served from ${[...served].join(', ')}; ${JSON.stringify(view)}`);
    }

    // A reload on a host says what changed and by when, as on a single host (here: nothing).
    const reloaded = await follower.api('POST', '/api/v1/reload');
    assert.deepEqual(reloaded, { status: 200, body: { ok: true, now: [], nextDeploy: [], restart: [] } });

    // `status` on any host shows the cluster: the leader, and each host live with its instance.
    const status = await runCli(['status', '--admin', follower.adminUrl], { cwd: tmp.dir });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^cluster: 3 hosts, 3 live; leader ${leader}; this host ${follower.node}, at revision \\d+$`, 'm'), status.stdout);
    for (const host of hosts) {
      const self = host === follower ? ' \\(this\\)' : '';
      assert.match(status.stdout, new RegExp(`^  ${host.node}${self}\\s+live\\s+\\d+\\s+web-v2-\\S+ ready$`, 'm'), status.stdout);
    }

    // So does the dashboard, on any host (chromium: CI installs it; skipped without it on a developer's machine).
    if (!existsSync(CHROMIUM) && process.env.CI !== 'true') return;
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${follower.adminUrl}/`);
      const summary = page.locator('[data-cluster-summary]');
      await summary.waitFor({ timeout: 30_000 });
      assert.match((await summary.textContent()) ?? '', new RegExp(`^3 hosts, 3 live; leader ${leader}; this host ${follower.node}, at revision \\d+$`));
      for (const host of hosts) {
        const row = page.locator(`tr[data-host="${host.node}"]`);
        const text = (await row.textContent()) ?? '';
        assert.match(text, /live/, `${host.node}'s row: ${text}`);
        assert.match(text, /web-v2-\S+ ready/, `${host.node}'s row: ${text}`);
      }
      assert.match((await page.locator(`tr[data-host="${leader}"]`).textContent()) ?? '', /leader/);
    } finally {
      await browser.close();
    }
  });

  it('drops a dead host from every table within the lease TTL, and a new leader finishes the deployment it was running', async (t) => {
    const first = await hosts[0]!.cluster();
    const leader = hosts.find((h) => h.node === first.leader)!;
    const survivors = hosts.filter((h) => h !== leader);
    const loads = startLoads(survivors);
    const deployment = await survivors[0]!.deploy({ version: 'v3' });
    // Mid-deploy: once a v3 instance is up somewhere, the leader's host dies.
    await untilView(survivors[0]!, (v) => Object.values(instancesByHost(v)).some((list) => list.some((i) => i.id.includes('-v3-'))), 'a v3 instance to be ready', 60_000);
    const before = await survivors[0]!.deployment(deployment.id);
    assert.equal(before?.state, 'progressing', `the deployment ended before the leader died: ${before?.state}`);
    const deadIds = new Set((await leader.cluster()).hosts.find((h) => h.node === leader.node)!.instances.map((i) => i.id));
    const crashedAt = Date.now();
    await leader.crash();

    // Every surviving proxy stops routing to the dead host's instances within the lease TTL (+ slack for a loaded machine).
    await Promise.all(
      survivors.map((h) =>
        waitFor(async () => {
          const routing = (await h.api<RoutingView>('GET', '/api/v1/routing')).body;
          const ids = routing.services.web?.releases.flatMap((r) => r.endpoints.map((e) => e.id)) ?? [];
          return ids.every((id) => !deadIds.has(id));
        }, { timeout: 20_000, interval: 50, message: `${h.node} to drop ${leader.node}'s instances` }),
      ),
    );
    const droppedMs = Date.now() - crashedAt;
    assert.ok(droppedMs <= LEASE_TTL_MS + 3000, `the dead host's instances left the tables after ${droppedMs} ms (lease TTL ${LEASE_TTL_MS} ms)`);

    const view = await untilView(survivors[0]!, (v) => v.leader !== null && v.leader !== leader.node, 'a new leader', 20_000);
    assert.ok(survivors.some((h) => h.node === view.leader));
    const done = await waitFor(async () => {
      const d = await survivors[1]!.deployment(deployment.id);
      return d !== undefined && ['succeeded', 'rolled-back', 'failed'].includes(d.state) ? d : undefined;
    }, { timeout: 120_000, message: 'the new leader to finish the deployment of v3' });
    const reports = await Promise.all(loads.map((l) => l.stop()));
    assert.equal(done.state, 'succeeded', `${done.state}: ${done.reason}`);
    assert.ok(done.events.some((e) => e.type === 'deployment.resumed'), `the new leader did not resume the deployment from its stored steps: ${done.events.map((e) => e.type).join(' ')}`);
    t.diagnostic(`dead host out of every table after ${droppedMs} ms; new leader ${view.leader}; requests: ${reports.map((r) => r.outcomes.length).join(' + ')}`);
    // The serving capacity is whole again, on the hosts left.
    const after = await untilView(survivors[0]!, (v) => Object.values(instancesByHost(v)).flat().filter((i) => i.id.includes('-v3-')).length === 3, 'three v3 instances on the survivors').catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nthe deployment's events:\n${done.events.map((e) => `${e.type}: ${e.message}`).join('\n')}`);
    });
    assert.deepEqual(Object.keys(instancesByHost(after)).sort(), survivors.map((h) => h.node).sort());
    for (const [i, report] of reports.entries()) {
      // The proxy's own access-log lines of its failures (attempts, endpoints) go with the message.
      const logged = report.failed === 0 ? '' : survivors[i]!.daemon.stdout().split('\n').filter((l) => /"status":5\d\d/.test(l)).slice(0, 8).join('\n');
      assert.equal(report.failed, 0, `${survivors[i]!.node}'s proxy: ${report.failed} of ${report.outcomes.length} failed\n${failures(report)}\n${logged}`);
    }
  });
  it('retries the GETs in flight to a host that stopped answering once its lease ends; its POSTs wait for it', async (t) => {
    // After the test above, two hosts are left.
    const live = hosts.filter((h) => h.processes().length > 0);
    assert.equal(live.length, 2, `two hosts left: ${live.map((h) => h.node).join(', ')}`);
    const view = await live[0]!.cluster();
    // The leader stays up: this is about the proxies, not about a new election.
    const frozen = live.find((h) => h.node !== view.leader)!;
    const via = live.find((h) => h !== frozen)!;
    const frozenIds = new Set((instancesByHost(view)[frozen.node] ?? []).map((i) => i.id));
    assert.ok(frozenIds.size > 0, `${frozen.node} runs instances of web`);
    const frozenPids = new Set(frozen.processes());
    const inFlight = async () => {
      const routing = (await via.api<RoutingView>('GET', '/api/v1/routing')).body;
      const endpoints = routing.services.web?.releases.flatMap((r) => r.endpoints) ?? [];
      const sum = (list: typeof endpoints) => list.reduce((n, e) => n + e.inFlight, 0);
      return { all: sum(endpoints), frozen: sum(endpoints.filter((e) => frozenIds.has(e.id))) };
    };
    const client = new Agent({ connections: 32 });
    const send = (method: 'GET' | 'POST') => {
      const answer = { settled: false, done: Promise.resolve({ status: 0, text: '', at: 0 }) };
      answer.done = request(`${via.proxyUrl}/?sleep=1500`, { method, dispatcher: client, headersTimeout: 90_000, bodyTimeout: 90_000 })
        .then(async (res) => ({ status: res.statusCode, text: await res.body.text(), at: Date.now() }))
        .catch((err: unknown) => ({ status: 0, text: String(err), at: Date.now() }))
        .finally(() => (answer.settled = true));
      return answer;
    };
    const pidOf = (text: string) => (JSON.parse(text) as { pid: number }).pid;
    // Slow POSTs, then slow GETs, through the other host's proxy: balancing sends some of each to the frozen host.
    const posts = Array.from({ length: 8 }, () => send('POST'));
    const postsThere = await waitFor(async () => {
      const now = await inFlight();
      return now.all >= 8 && now.frozen > 0 ? now.frozen : undefined;
    }, { timeout: 10_000, interval: 20, message: `POSTs in flight, some to ${frozen.node}` });
    const gets = Array.from({ length: 8 }, () => send('GET'));
    await waitFor(async () => {
      const now = await inFlight();
      return now.all >= 16 && now.frozen > postsThere;
    }, { timeout: 10_000, interval: 20, message: `GETs in flight, some to ${frozen.node}` });
    const frozenAt = Date.now();
    frozen.freeze();
    let thawed = false;
    try {
      const results = await Promise.all(gets.map((g) => g.done));
      const slowest = Math.max(...results.map((r) => r.at)) - frozenAt;
      t.diagnostic(`${frozen.node} frozen with ${postsThere} POSTs and some GETs in flight to it; every GET answered within ${slowest} ms (lease TTL ${LEASE_TTL_MS} ms)`);
      assert.deepEqual(results.map((r) => r.status), Array(8).fill(200), JSON.stringify(results));
      for (const r of results) assert.ok(!frozenPids.has(pidOf(r.text)), `a GET was answered by the frozen host: ${r.text}`);
      // Without ending them, they would wait for the response timeout (60 s).
      assert.ok(slowest < LEASE_TTL_MS + 10_000, `the GETs to the frozen host ended ${slowest} ms after it froze`);
      // A POST may have reached the app: it is never ended, and waits for the host to answer.
      assert.equal(posts.filter((p) => !p.settled).length, postsThere, 'the POSTs to the frozen host still wait');
      frozen.thaw();
      thawed = true;
      const postResults = await Promise.all(posts.map((p) => p.done));
      assert.deepEqual(postResults.map((r) => r.status), Array(8).fill(200), JSON.stringify(postResults));
      assert.equal(postResults.filter((r) => frozenPids.has(pidOf(r.text))).length, postsThere, 'the waiting POSTs were answered by the host once it woke');
    } finally {
      if (!thawed) frozen.thaw();
      await client.close();
    }
    await untilView(via, (v) => v.hosts.find((h) => h.node === frozen.node)?.live === true, `${frozen.node} live again after SIGCONT`);
  });

  it('lets requests to a host whose lease lapsed finish while its instances still answer', async (t) => {
    // A lease also lapses when only switchyard stops (or etcd is in trouble) on a host whose apps serve on.
    const { leader, follower: stalled } = await leaderAndFollower();
    // The host frozen before came back without instances (the leader wrote them off): a deploy spreads web again.
    const deployment = await leader.deploy({ version: 'v5' });
    await waitFor(async () => (await leader.deployment(deployment.id))?.state === 'succeeded', { timeout: 120_000, message: 'the deployment of v5 to succeed' });
    const spread = await untilView(leader, (v) => (instancesByHost(v)[stalled.node] ?? []).some((i) => i.id.includes('-v5-')), `a v5 instance on ${stalled.node}`);
    // Its apps' processes (an instance's pid is the shell that runs it; the app is its child).
    const stalledPids = new Set(stalled.processes());
    const appIds = new Set((instancesByHost(spread)[stalled.node] ?? []).map((i) => i.id));
    const client = new Agent({ connections: 16 });
    // Longer than the lease and the check after it: they are still in flight when the host leaves.
    const answers = Array.from({ length: 8 }, () =>
      request(`${leader.proxyUrl}/?sleep=6000`, { dispatcher: client, headersTimeout: 90_000, bodyTimeout: 90_000 })
        .then(async (res) => ({ status: res.statusCode, text: await res.body.text() }))
        .catch((err: unknown) => ({ status: 0, text: String(err) })),
    );
    await waitFor(async () => {
      const routing = (await leader.api<RoutingView>('GET', '/api/v1/routing')).body;
      return routing.services.web?.releases.some((r) => r.endpoints.some((e) => appIds.has(e.id) && e.inFlight > 0));
    }, { timeout: 10_000, interval: 20, message: `a request in flight to ${stalled.node}` });
    stalled.freeze({ appsToo: false });
    try {
      await untilView(leader, (v) => v.hosts.find((h) => h.node === stalled.node)?.live !== true, `${stalled.node}'s lease to end`, 20_000);
      const results = await Promise.all(answers);
      assert.deepEqual(results.map((r) => r.status), Array(8).fill(200), JSON.stringify(results));
      const fromStalled = results.filter((r) => stalledPids.has((JSON.parse(r.text) as { pid: number }).pid)).length;
      t.diagnostic(`${fromStalled} of 8 answered by ${stalled.node}'s apps after its lease ended`);
      const ended = leader.daemon.stdout().split('\n').filter((l) => /does not answer|host left the cluster ended/.test(l));
      assert.ok(fromStalled > 0, `the requests in flight to the host whose lease lapsed were not answered there: ${results.map((r) => r.text).join(' ')}\n${ended.join('\n')}`);
    } finally {
      stalled.thaw();
      await client.close();
    }
    await untilView(leader, (v) => v.hosts.find((h) => h.node === stalled.node)?.live === true, `${stalled.node} live again after SIGCONT`);
  });

  it('starts an instance on another host, under the same id, when its host dies while it is still starting', async (t) => {
    const { leader, follower: doomed } = await leaderAndFollower();
    // A slow boot (the app listens after 3 s) keeps each new instance starting long enough to lose its host.
    const deployment = await leader.deploy({ version: 'v4', env: { START_DELAY_MS: '3000' } });
    const startingOn = (v: ClusterDaemonView) => v.hosts.find((h) => h.node === doomed.node)?.instances.find((i) => i.id.includes('-v4-') && i.state === 'starting');
    const seen = await untilView(leader, (v) => startingOn(v) !== undefined, `a v4 instance starting on ${doomed.node}`, 60_000);
    const moved = startingOn(seen)!.id;
    await doomed.crash();
    const done = await waitFor(async () => {
      const d = await leader.deployment(deployment.id);
      return d !== undefined && ['succeeded', 'rolled-back', 'failed'].includes(d.state) ? d : undefined;
    }, { timeout: 120_000, message: 'the deployment of v4 to end' });
    assert.equal(done.state, 'succeeded', `${done.state}: ${done.reason}`);
    // The same instance, not a replacement: the deployment's records of it stay true.
    const after = await untilView(leader, (v) => (instancesByHost(v)[leader.node] ?? []).some((i) => i.id === moved), `${moved} ready on ${leader.node}`);
    t.diagnostic(`${moved} was starting on ${doomed.node} when it died; ready on ${leader.node}; v4 there: ${(instancesByHost(after)[leader.node] ?? []).map((i) => i.id).join(', ')}`);
  });
});

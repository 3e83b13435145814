// Specification of a rolling deployment end to end: `switchyard up` as a real process, two instances of
// examples/node-app, steady load through the proxy with 3-second requests always in flight, and a
// deploy v1 → v2 through the admin API. Invariants 1-3: nothing fails, capacity holds, old PIDs are gone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isRunning, Switchyard } from '../helpers/deploy-harness.js';
import { describeFailures, Load, type LoadReport } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

describe('a rolling deployment', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await Switchyard.start({ instances: 2, deploy: { strategy: 'rolling', rolling: { maxSurge: 1, maxUnavailable: 0 } } });
  });
  after(async () => sy?.close());

  it('keeps every request succeeding while it replaces both instances, 3-second requests included', async () => {
    const before = await sy.liveInstances();
    assert.deepEqual(
      before.map((i) => [i.version, i.state, i.inRotation]),
      [
        ['v1', 'ready', true],
        ['v1', 'ready', true],
      ],
    );
    const oldPids = before.map((i) => i.pid!);

    const load = Load.start({ url: sy.proxyUrl, workers: 8, slowWorkers: 6, slowMs: 3000, postShare: 0.2, pauseMs: 5, maxDurationMs: 120_000 });
    let report: LoadReport;
    let deploymentId: number;
    try {
      // Long requests are on both old instances before the deploy starts.
      await waitFor(() => load.count('v1') >= 50, { timeout: 30_000, message: 'v1 answers under load' });
      deploymentId = (await sy.deploy({ version: 'v2' })).id;
      const done = await sy.finished(deploymentId, 120_000);
      assert.equal(done.state, 'succeeded', `${done.reason}\n${sy.logTail()}`);
      const finishedAt = Date.now();
      await waitFor(() => load.count('v2', (o) => o.start > finishedAt) >= 50, { timeout: 30_000, message: 'v2 answers after the deploy' });
    } finally {
      report = await load.stop();
    }
    assert.equal(report.failed, 0, describeFailures(report));

    // Every instance was replaced: only v2 runs, in rotation, and the old processes are gone.
    const afterDeploy = await sy.liveInstances();
    assert.deepEqual(
      afterDeploy.map((i) => [i.version, i.state, i.inRotation]),
      [
        ['v2', 'ready', true],
        ['v2', 'ready', true],
      ],
    );
    assert.ok(afterDeploy.every((i) => !oldPids.includes(i.pid!)));
    for (const pid of oldPids) assert.equal(isRunning(pid), false, `old instance process ${pid} still runs`);

    // Responses moved from v1 to v2: v1 first; after the last route step, v2 only.
    const detail = await sy.deployment(deploymentId);
    const lastRoute = detail.steps.findLast((s) => s.kind === 'route')!;
    const switchedAt = Date.parse(lastRoute.finishedAt!);
    const { outcomes } = report;
    assert.equal(outcomes[0]!.version, 'v1');
    const lateV1 = outcomes.filter((o) => o.start > switchedAt && o.version !== 'v2');
    assert.deepEqual(lateV1.slice(0, 3), [], `${lateV1.length} requests sent after the last switch were not answered by v2`);
    assert.ok(report.versions.v1! > 50 && report.versions.v2! > 50, JSON.stringify(report.versions));

    // Drain (invariant 2): 3-second requests in flight on an old instance when it started draining finished there.
    const drainingAt = new Map<number, number>();
    const records = sy.instanceRecords();
    for (const event of sy.events()) {
      const record = records.find((r) => r.id === event.instanceId);
      if (event.type === 'instance.draining' && record?.pid != null && oldPids.includes(record.pid)) drainingAt.set(record.pid, Date.parse(event.time));
    }
    assert.equal(drainingAt.size, 2, 'both old instances drained');
    const spanning = outcomes.filter((o) => o.slow && o.pid !== null && drainingAt.has(o.pid) && o.start < drainingAt.get(o.pid)! && o.end > drainingAt.get(o.pid)!);
    assert.ok(spanning.length > 0, 'a 3-second request was in flight on an old instance when it began draining');
    assert.ok(spanning.every((o) => o.version === 'v1' && o.error === null));

    // Invariant 3: the steps ran as planned, surge first.
    assert.deepEqual(
      detail.steps.map((s) => `${s.kind}:${s.state}`),
      // No hooks are configured, so the plan has no hook steps.
      ['start:done', 'route:done', 'stop:done', 'start:done', 'route:done', 'stop:done', 'promote:done'],
    );
  });
});

// Specification of recovery after a daemon crash (invariants 4 and 7): `switchyard up` is SIGKILLed while a
// blue-green deployment waits at its pause; a new daemon on the same state dir rolls the deployment back
// with the reason, serves the stable release, keeps the whole history, and leaves no old process running.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isRunning, Switchyard } from '../helpers/deploy-harness.js';

describe('a daemon killed during a deployment', () => {
  let sy: Switchyard;
  let interruptedId: number | undefined;
  before(async () => {
    sy = await Switchyard.start({ instances: 2, deploy: { strategy: 'blue-green', blueGreen: { autoPromote: false, scaleDownDelay: '2m' } } });
  });
  after(async () => sy?.close());

  it('is rolled back by the next daemon, which serves stable, keeps the history and stops every old process', async () => {
    // Some history first: a finished blue-green deployment (v2), then one that waits at its pause (v3).
    const first = await sy.deploy({ version: 'v2' });
    await sy.waitFor(first.id, ['paused'], 60_000);
    await sy.action('promote');
    assert.equal((await sy.finished(first.id)).state, 'succeeded');
    const interrupted = await sy.deploy({ version: 'v3' });
    interruptedId = interrupted.id;
    await sy.waitFor(interrupted.id, ['paused'], 60_000);
    assert.deepEqual(new Set(await sy.versions(4, { 'x-switchyard-preview': '1' })), new Set(['v3']));

    const deploymentsBefore = await sy.deployments();
    const eventsBefore = sy.events();
    const oldPids = (await sy.liveInstances()).map((i) => i.pid!);
    // v2 (stable), v3 (paused green), and v1 on standby.
    assert.equal(oldPids.length, 6, JSON.stringify(await sy.liveInstances()));

    await sy.crash();
    // The apps outlive the daemon (own process groups): the next daemon must find and stop them.
    assert.ok(oldPids.every(isRunning), 'the instances survived the daemon');
    await sy.restart();

    const recovered = await sy.deployment(interrupted.id);
    assert.equal(recovered.state, 'rolled-back');
    assert.match(recovered.reason ?? '', /daemon stopped during this deployment .*rolled back .*on restart/);
    assert.ok(recovered.finishedAt !== null);

    // Stable serves, with fresh processes; no preview, nothing on standby, no deployment running.
    const view = await sy.service();
    assert.equal(view.stable?.version, 'v2');
    assert.equal(view.deployment, null);
    assert.equal(view.preview, null);
    assert.deepEqual(
      view.releases.map((r) => [r.version, r.traffic, r.instances.map((i) => [i.state, i.inRotation])]),
      [
        [
          'v2',
          100,
          [
            ['ready', true],
            ['ready', true],
          ],
        ],
      ],
    );
    assert.deepEqual(new Set(await sy.versions(6)), new Set(['v2']));
    assert.deepEqual(new Set(await sy.versions(4, { 'x-switchyard-preview': '1' })), new Set(['v2']));

    // No process of the previous run is left.
    for (const pid of oldPids) assert.equal(isRunning(pid), false, `old instance process ${pid} still runs`);
    const livePids = view.releases.flatMap((r) => r.instances.map((i) => i.pid));
    assert.deepEqual(sy.processes().filter((pid) => pid !== sy.daemon.pid && !livePids.includes(pid)), [], 'only the new daemon and its instances run');

    // History intact: every deployment and every event from before the crash, unchanged (but the rolled-back state).
    const deploymentsAfter = await sy.deployments();
    for (const d of deploymentsBefore) {
      const now = deploymentsAfter.find((a) => a.id === d.id);
      assert.ok(now, `deployment ${d.id} is still there`);
      assert.deepEqual([now.kind, now.strategy, now.from, now.to], [d.kind, d.strategy, d.from, d.to]);
      if (d.id !== interrupted.id) assert.deepEqual([now.state, now.reason, now.steps], [d.state, d.reason, d.steps]);
    }
    const eventsAfter = new Map(sy.events().map((e) => [e.id, e]));
    for (const e of eventsBefore) assert.deepEqual(eventsAfter.get(e.id), e, `event ${e.id} (${e.type}) is unchanged`);
    assert.ok(
      [...eventsAfter.values()].some((e) => e.type === 'instance.stopped' && /left from the previous daemon run/.test(e.message)),
      'the leftovers are recorded as stopped',
    );

    const db = new Database(join(sy.stateDir, 'state.db'), { readonly: true, fileMustExist: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
  });

  it('marks the interrupted step failed, so no step of the rolled-back deployment is left running', async () => {
    assert.ok(interruptedId !== undefined, 'the test above ran');
    const recovered = await sy.deployment(interruptedId);
    assert.deepEqual(
      recovered.steps.filter((s) => s.state === 'running').map((s) => `${s.index} ${s.kind}`),
      [],
    );
    const pause = recovered.steps.find((s) => s.kind === 'pause')!;
    assert.equal(pause.state, 'failed');
    assert.ok(pause.finishedAt !== null);
    assert.notEqual(recovered.steps[recovered.currentStep]?.state, 'running', `currentStep ${recovered.currentStep}`);
  });
});

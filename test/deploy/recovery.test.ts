// Specification of recovery after a daemon crash (invariants 7 and 11): `switchyard up` is SIGKILLed while a
// blue-green deployment waits at its pause; a new daemon on the same state dir adopts every instance
// process under its PID (stable, green, and the standby fleet of the deployment before), takes the
// deployment over exactly where it was (still paused, the preview header still reaching the green fleet),
// keeps the whole history, and finishes the deployment when promoted.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isRunning, Switchyard } from '../helpers/deploy-harness.js';
import { waitFor } from '../helpers/wait.js';

describe('a daemon killed during a deployment', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await Switchyard.start({ instances: 2, deploy: { strategy: 'blue-green', blueGreen: { autoPromote: false, scaleDownDelay: '2m' } } });
  });
  after(async () => sy?.close());

  it('is taken over by the next daemon: every instance adopted under its PID, the deployment paused where it was, the history intact', async () => {
    // Some history first: a finished blue-green deployment (v2), then one that waits at its pause (v3).
    const first = await sy.deploy({ version: 'v2' });
    await sy.waitFor(first.id, ['paused'], 60_000);
    await sy.action('promote');
    assert.equal((await sy.finished(first.id)).state, 'succeeded');
    const interrupted = await sy.deploy({ version: 'v3' });
    await sy.waitFor(interrupted.id, ['paused'], 60_000);
    assert.deepEqual(new Set(await sy.versions(4, { 'x-switchyard-preview': '1' })), new Set(['v3']));

    const deploymentsBefore = await sy.deployments();
    const eventsBefore = sy.events();
    const instancesBefore = await sy.liveInstances();
    // v2 (stable), v3 (paused green), and v1 on standby.
    assert.equal(instancesBefore.length, 6, JSON.stringify(instancesBefore));

    await sy.crash();
    assert.ok(instancesBefore.every((i) => isRunning(i.pid!)), 'the instances survived the daemon');
    await sy.restart();

    // The same processes serve: nothing was restarted, nothing stopped.
    const after = await sy.liveInstances();
    assert.deepEqual(
      after.map((i) => [i.id, i.pid]).sort(),
      instancesBefore.map((i) => [i.id, i.pid]).sort(),
      'every instance adopted under its PID',
    );
    const recovered = await sy.deployment(interrupted.id);
    assert.equal(recovered.state, 'paused', recovered.reason ?? '');
    assert.equal(recovered.steps[recovered.currentStep]?.kind, 'pause');
    const view = await sy.service();
    assert.equal(view.stable?.version, 'v2');
    assert.equal(view.standby?.version, 'v1', 'the standby fleet is kept for its time');
    assert.deepEqual(new Set(await sy.versions(6)), new Set(['v2']));
    assert.deepEqual(new Set(await sy.versions(4, { 'x-switchyard-preview': '1' })), new Set(['v3']));
    assert.ok(sy.events().some((e) => e.type === 'deployment.resumed' && e.deploymentId === interrupted.id));

    // History intact: every deployment and every event from before the crash, unchanged.
    const deploymentsAfter = await sy.deployments();
    for (const d of deploymentsBefore) {
      const now = deploymentsAfter.find((a) => a.id === d.id);
      assert.ok(now, `deployment ${d.id} is still there`);
      assert.deepEqual([now.kind, now.strategy, now.from, now.to, now.state], [d.kind, d.strategy, d.from, d.to, d.state]);
    }
    const eventsAfter = new Map(sy.events().map((e) => [e.id, e]));
    for (const e of eventsBefore) assert.deepEqual(eventsAfter.get(e.id), e, `event ${e.id} (${e.type}) is unchanged`);
    const db = new Database(join(sy.stateDir, 'state.db'), { readonly: true, fileMustExist: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }

    // The taken-over deployment goes on: promote switches to v3 and it succeeds.
    await sy.action('promote');
    const done = await sy.finished(interrupted.id);
    assert.equal(done.state, 'succeeded', done.reason ?? '');
    assert.deepEqual(new Set(await sy.versions(6)), new Set(['v3']));
    const green = instancesBefore.filter((i) => i.version === 'v3');
    assert.ok(green.every((i) => isRunning(i.pid!)), 'v3 serves with the processes it had before the crash');
  });
});

describe('a daemon restarted on a config without one of its services', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await Switchyard.start({ instances: 2 });
  });
  after(async () => sy?.close());

  it('stops the removed service\'s instances (drained, after the table without them) and serves the one it keeps', async () => {
    const removed = await sy.liveInstances();
    assert.equal(removed.length, 2);
    await sy.crash();
    // The same app, now under the name `shop`: `web` is gone from the config.
    const config = JSON.parse(await readFile(sy.configFile, 'utf8')) as { services: Record<string, unknown> };
    config.services = { shop: config.services.web };
    await writeFile(sy.configFile, `${JSON.stringify(config, null, 2)}\n`);
    await sy.restart();

    await waitFor(() => removed.every((i) => !isRunning(i.pid!)), { timeout: 30_000, message: "the removed service's processes to stop" });
    const stopped = sy.events().filter((e) => e.type === 'instance.stopped' && /its service is no longer in the config/.test(e.message));
    assert.deepEqual(stopped.map((e) => e.instanceId).sort(), removed.map((i) => i.id).sort());
    // The service kept under its new name gets its first release and serves.
    await waitFor(async () => (await sy.get('/')).status === 200, { timeout: 60_000, message: 'shop to serve' });
  });
});

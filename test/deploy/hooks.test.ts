// Specification of deploy hooks end to end: preDeploy, postDeploy and onRollback run in order, with the
// service and versions in their environment; postDeploy runs only once the old release is fully stopped;
// what a hook prints is kept in the deployment's events.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EventRow } from '../../src/store/index.js';
import { Switchyard } from '../helpers/deploy-harness.js';
import { waitFor } from '../helpers/wait.js';

/** Hooks run in the release's cwd (the temp dir), so they write this file there. */
const HOOK_LOG = 'hooks.log';
const line = (name: string) => `echo "${name} $SWITCHYARD_SERVICE $SWITCHYARD_VERSION $SWITCHYARD_PREVIOUS_VERSION" | tee -a ${HOOK_LOG}`;

describe('deploy hooks', () => {
  let sy: Switchyard;
  let file: string;
  before(async () => {
    sy = await Switchyard.start({
      instances: 2,
      deploy: {
        blueGreen: { autoPromote: true, scaleDownDelay: '1s' },
        hooks: {
          preDeploy: `${line('pre')}\nif [ "$SWITCHYARD_VERSION" = bad ]; then echo "refusing bad" >&2; exit 3; fi`,
          postDeploy: line('post'),
          onRollback: line('rollback'),
          timeout: '20s',
        },
      },
    });
    file = join(sy.tmp.dir, HOOK_LOG);
  });
  after(async () => sy?.close());

  const lines = async (): Promise<string[]> =>
    (await readFile(file, 'utf8').catch(() => ''))
      .split('\n')
      .filter((l) => l !== '');

  /** The id of the first event matching, failing the test when there is none. */
  const idOf = (events: EventRow[], match: (e: EventRow) => boolean, what: string): number => {
    const found = events.find(match);
    assert.ok(found, `no ${what} event`);
    return found.id;
  };

  it('runs preDeploy first and postDeploy after the old release is fully stopped, with the versions in the environment', async () => {
    const oldIds = (await sy.liveInstances()).map((i) => i.id);
    const deployment = await sy.deploy({ version: 'v2' });
    const done = await sy.finished(deployment.id, 60_000);
    assert.equal(done.state, 'succeeded', done.reason ?? '');
    assert.deepEqual(await lines(), ['pre web v2 v1', 'post web v2 v1']);

    const events = sy.events();
    const preDone = idOf(events, (e) => e.type === 'hook.preDeploy.passed' && e.deploymentId === deployment.id, 'preDeploy passed');
    const firstStart = idOf(events, (e) => e.type === 'instance.starting' && (e.data as { release: number }).release === deployment.to!.number, 'instance.starting');
    assert.ok(preDone < firstStart, 'preDeploy finished before the first new instance started');
    const postStarted = idOf(events, (e) => e.type === 'hook.postDeploy.started' && e.deploymentId === deployment.id, 'postDeploy started');
    for (const id of oldIds) {
      const stopped = idOf(events, (e) => e.type === 'instance.stopped' && e.instanceId === id, `instance.stopped of ${id}`);
      assert.ok(stopped < postStarted, `${id} stopped before postDeploy started`);
    }

    // Hook output is in the deployment's events.
    const passed = done.events.find((e) => e.type === 'hook.postDeploy.passed');
    assert.match((passed?.data as { output: string }).output, /post web v2 v1/);
    assert.match((done.events.find((e) => e.type === 'hook.preDeploy.passed')?.data as { output: string }).output, /pre web v2 v1/);
  });

  it('runs onRollback after a failed deployment, with the version that failed and the one kept', async () => {
    const before = (await lines()).length;
    const deployment = await sy.deploy({ version: 'bad' });
    const done = await sy.finished(deployment.id, 60_000);
    assert.equal(done.state, 'rolled-back', done.reason ?? '');
    await waitFor(async () => (await lines()).length >= before + 2, { timeout: 20_000, message: 'the onRollback hook to run' });
    assert.deepEqual((await lines()).slice(before), ['pre web bad v2', 'rollback web bad v2']);

    const detail = await sy.deployment(deployment.id);
    const types = detail.events.map((e) => e.type);
    assert.ok(types.indexOf('hook.preDeploy.failed') < types.indexOf('deployment.rolled-back'));
    assert.ok(types.indexOf('deployment.rolled-back') < types.indexOf('hook.onRollback.started'), 'onRollback runs once the rollback is done');
    const failed = detail.events.find((e) => e.type === 'hook.preDeploy.failed')!.data as { output: string; exitCode: number };
    assert.equal(failed.exitCode, 3);
    assert.match(failed.output, /pre web bad v2\nrefusing bad/, 'stdout and stderr, in order');
    assert.ok(!types.includes('hook.postDeploy.started'), 'no postDeploy after a failure');
  });

  it('runs postDeploy of a blue-green deployment once the standby fleet is retired', async () => {
    const oldIds = (await sy.liveInstances()).map((i) => i.id);
    const before = (await lines()).length;
    const deployment = await sy.deploy({ version: 'v3', strategy: 'blue-green' });
    const done = await sy.finished(deployment.id, 60_000);
    assert.equal(done.state, 'succeeded', done.reason ?? '');
    await waitFor(async () => (await lines()).length >= before + 2, { timeout: 30_000, message: 'postDeploy after the standby time' });
    assert.deepEqual((await lines()).slice(before), ['pre web v3 v2', 'post web v3 v2']);

    const events = sy.events().filter((e) => e.deploymentId === deployment.id || oldIds.includes(e.instanceId ?? ''));
    const retired = idOf(events, (e) => e.type === 'release.retired', 'release.retired');
    const postStarted = idOf(events, (e) => e.type === 'hook.postDeploy.started', 'postDeploy started');
    assert.ok(retired < postStarted);
    for (const id of oldIds) {
      assert.ok(idOf(events, (e) => e.type === 'instance.stopped' && e.instanceId === id, `instance.stopped of ${id}`) < postStarted);
    }
  });
});

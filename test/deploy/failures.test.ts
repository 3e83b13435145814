// Specification of failed and refused deployments (invariant 4): a release that never gets healthy, one
// that crash-loops, a failing preDeploy hook, an abort at a blue-green pause, and bad request bodies.
// Each leaves the stable release serving everything, with its instances, and says why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isRunning, Switchyard } from '../helpers/deploy-harness.js';
import { describeFailures, Load, type LoadReport } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

/** The stable v1 fleet as it serves: versions, states, rotation and PIDs. */
async function fleet(sy: Switchyard): Promise<{ version: string; state: string; inRotation: boolean; pid: number | null }[]> {
  return (await sy.liveInstances()).map(({ version, state, inRotation, pid }) => ({ version, state, inRotation, pid }));
}

/** No process of the given release number runs any more (found by the PIDs the daemon recorded). */
async function assertReleaseGone(sy: Switchyard, releaseNumber: number): Promise<void> {
  const pids = sy
    .instanceRecords()
    .filter((r) => r.releaseNumber === releaseNumber && r.pid !== null)
    .map((r) => r.pid!);
  await waitFor(() => pids.every((pid) => !isRunning(pid)), { timeout: 10_000, message: `release ${releaseNumber} processes to be gone` });
}

/** Runs `attempt` under load and asserts that every request succeeded and was answered by one of `versions`. */
async function underLoad(sy: Switchyard, attempt: () => Promise<void>, versions = ['v1']): Promise<LoadReport> {
  const load = Load.start({ url: sy.proxyUrl, workers: 6, slowWorkers: 2, slowMs: 3000, postShare: 0.2, pauseMs: 5, maxDurationMs: 90_000 });
  let report: LoadReport;
  try {
    await waitFor(() => load.count('v1') >= 20, { timeout: 30_000, message: 'v1 answers under load' });
    await attempt();
  } finally {
    report = await load.stop();
  }
  assert.equal(report.failed, 0, describeFailures(report));
  assert.deepEqual(Object.keys(report.versions).filter((v) => !versions.includes(v)), [], JSON.stringify(report.versions));
  return report;
}

describe('a release that never becomes healthy', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await Switchyard.start({ instances: 2, health: { startTimeout: '3s' } });
  });
  after(async () => sy?.close());

  it('is rolled back after health.startTimeout while v1 keeps serving every request', async () => {
    const stable = await fleet(sy);
    let releaseNumber = 0;
    await underLoad(sy, async () => {
      const deployment = await sy.deploy({ version: 'v2', env: { HEALTHY: '0' } });
      releaseNumber = deployment.to!.number;
      const done = await sy.finished(deployment.id, 60_000);
      assert.equal(done.state, 'rolled-back', done.reason ?? '');
      assert.match(done.reason ?? '', /not healthy within 3000 ms/);
    });
    assert.deepEqual(await fleet(sy), stable, 'the stable fleet is untouched');
    await assertReleaseGone(sy, releaseNumber);
    assert.deepEqual(sy.processes(['APP_VERSION=v2']), [], 'no v2 process runs');
  });
});

describe('failing deployments of a service', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await Switchyard.start({
      instances: 2,
      deploy: {
        blueGreen: { autoPromote: false, scaleDownDelay: '2m' },
        // Fails (exit 3) for the release named bad-hook only.
        hooks: { preDeploy: 'if [ "$SWITCHYARD_VERSION" = bad-hook ]; then echo "refusing $SWITCHYARD_VERSION"; exit 3; fi' },
      },
    });
  });
  after(async () => sy?.close());

  it('rolls back a crash-looping release and says "crash loop"', async () => {
    const stable = await fleet(sy);
    let releaseNumber = 0;
    await underLoad(sy, async () => {
      const deployment = await sy.deploy({ version: 'v2-crash', env: { CRASH_ON_START: '1' } });
      releaseNumber = deployment.to!.number;
      const done = await sy.finished(deployment.id, 60_000);
      assert.equal(done.state, 'rolled-back', done.reason ?? '');
      assert.match(done.reason ?? '', /crash loop/);
    });
    assert.deepEqual(await fleet(sy), stable);
    await assertReleaseGone(sy, releaseNumber);
    assert.deepEqual(sy.processes(['APP_VERSION=v2-crash']), []);
    assert.ok(sy.events().some((e) => e.type === 'instance.crashed'), 'the crashes are in the events');
  });

  it('rolls back on a failing preDeploy hook before any instance of the new release starts', async () => {
    const stable = await fleet(sy);
    const deployment = await sy.deploy({ version: 'bad-hook' });
    const done = await sy.finished(deployment.id, 60_000);
    assert.equal(done.state, 'rolled-back', done.reason ?? '');
    assert.match(done.reason ?? '', /preDeploy/);
    const failed = done.events.find((e) => e.type === 'hook.preDeploy.failed');
    assert.ok(failed, 'a hook.preDeploy.failed event');
    const data = failed.data as { exitCode: number; output: string };
    assert.equal(data.exitCode, 3);
    assert.match(data.output, /refusing bad-hook/);
    const releaseNumber = deployment.to!.number;
    const started = sy.events().filter((e) => e.type === 'instance.starting' && (e.data as { release?: number } | null)?.release === releaseNumber);
    assert.deepEqual(started, [], 'no instance of the release was started');
    assert.deepEqual(
      sy.instanceRecords().filter((r) => r.releaseNumber === releaseNumber),
      [],
    );
    assert.deepEqual(await fleet(sy), stable);
    assert.deepEqual(new Set(await sy.versions(6)), new Set(['v1']));
  });

  it('rolls back on abort at a blue-green pause: green stops, blue serves everything', async () => {
    const stable = await fleet(sy);
    let releaseNumber = 0;
    await underLoad(sy, async () => {
      const deployment = await sy.deploy({ version: 'v3', strategy: 'blue-green' });
      releaseNumber = deployment.to!.number;
      const paused = await sy.waitFor(deployment.id, ['paused', 'rolled-back', 'failed'], 60_000);
      assert.equal(paused.state, 'paused', paused.reason ?? '');
      assert.deepEqual(new Set(await sy.versions(4, { 'x-switchyard-preview': '1' })), new Set(['v3']));
      // One deployment at a time: a second one is refused before anything is written.
      const releases = sy.releaseCount();
      const busy = await sy.api<{ error: { code: string } }>('POST', '/api/v1/services/web/deployments', { version: 'v9' });
      assert.equal(busy.status, 409);
      assert.equal(busy.body.error.code, 'deployment_in_progress');
      assert.equal(sy.releaseCount(), releases);
      await sy.action('abort');
      const done = await sy.finished(deployment.id, 60_000);
      assert.equal(done.state, 'rolled-back', done.reason ?? '');
      assert.match(done.reason ?? '', /aborted/);
    });
    const view = await sy.service();
    assert.equal(view.preview, null, 'the preview rule is gone');
    assert.equal(view.deployment, null);
    assert.deepEqual(await fleet(sy), stable);
    assert.deepEqual(new Set(await sy.versions(4, { 'x-switchyard-preview': '1' })), new Set(['v1']));
    await assertReleaseGone(sy, releaseNumber);
    assert.deepEqual(sy.processes(['APP_VERSION=v3']), []);
  });

  it('brings stable back to full strength when a rolling deployment is aborted halfway', async () => {
    let releaseNumber = 0;
    let abortedAt = 0;
    const abortHalfway = async () => {
      // A slow boot keeps the deployment at its second start step long enough to abort it there.
      const deployment = await sy.deploy({ version: 'v4', strategy: 'rolling', env: { START_DELAY_MS: '2500' } });
      releaseNumber = deployment.to!.number;
      await waitFor(
        async () => {
          const now = await sy.deployment(deployment.id);
          return now.currentStep === 4 && now.steps[4]?.kind === 'start' && now.steps[3]?.state === 'done';
        },
        { timeout: 60_000, interval: 50, message: 'the second start step (one v1 instance already stopped)' },
      );
      await sy.action('abort');
      const done = await sy.finished(deployment.id, 60_000);
      assert.equal(done.state, 'rolled-back', done.reason ?? '');
      assert.match(done.reason ?? '', /aborted/);
      abortedAt = Date.parse(done.finishedAt!);
    };
    // The first v4 instance was in rotation before the abort.
    const report = await underLoad(sy, abortHalfway, ['v1', 'v4']);
    const late = report.outcomes.filter((o) => o.start > abortedAt && o.version !== 'v1');
    assert.equal(late.length, 0, 'only v1 answers once the deployment is rolled back');
    const instances = await fleet(sy);
    assert.deepEqual(
      instances.map((i) => [i.version, i.state, i.inRotation]),
      [
        ['v1', 'ready', true],
        ['v1', 'ready', true],
      ],
    );
    await assertReleaseGone(sy, releaseNumber);
    assert.deepEqual(sy.processes(['APP_VERSION=v4']), []);
  });

  it('refuses a bad deploy request with 400 and the field at fault, and changes nothing', async () => {
    const releases = sy.releaseCount();
    const deployments = (await sy.deployments()).map((d) => d.id);
    const cases: [body: unknown, field: string][] = [
      [{ version: 'bad version!' }, 'version'],
      [{ version: '' }, 'version'],
      [{ version: 7 }, 'version'],
      [{}, 'version'],
      [{ version: 'v9', strategy: 'yolo' }, 'strategy'],
      [{ version: 'v9', colour: 'blue' }, 'colour'],
      [{ version: 'v9', env: { '1BAD': 'x' } }, 'env.1BAD'],
      [{ version: 'v9', env: { WORKERS: 4 } }, 'env.WORKERS'],
      [{ version: 'v9', env: ['A=1'] }, 'env'],
      [['v9'], 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await sy.api<{ error: { code: string; message: string; field?: string } }>('POST', '/api/v1/services/web/deployments', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.field, field, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.error.message.length > 0);
    }
    assert.equal(sy.releaseCount(), releases, 'no release was created');
    assert.deepEqual(
      (await sy.deployments()).map((d) => d.id),
      deployments,
      'no deployment was created',
    );
    assert.equal((await sy.service()).deployment, null);
  });

  it('refuses a body that is not JSON with 400 and field "body"', async () => {
    const res = await sy.api<{ error: { code: string; field?: string } }>('POST', '/api/v1/services/web/deployments', '{"version": ');
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'body');
  });
});

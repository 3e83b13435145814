// Specification of a service that has no stable release yet: `up` survives a first release that cannot
// start (it crash-loops), and the next deployment, by any strategy, brings the service up; a first
// deployment that is rolled back leaves the service as it was: without a stable release.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Switchyard } from '../helpers/deploy-harness.js';

/** A daemon whose configured first release (v1) crash-loops, so the service ends up with no stable release. */
async function withoutStable(deploy: Record<string, unknown> = {}): Promise<Switchyard> {
  const sy = await Switchyard.start({ instances: 1, env: { CRASH_ON_START: '1' }, deploy });
  const [first] = await sy.deployments();
  assert.equal(first?.state, 'rolled-back', JSON.stringify(first));
  assert.match(first.reason ?? '', /crash loop/);
  const view = await sy.service();
  assert.equal(view.stable, null);
  assert.deepEqual(view.releases, []);
  return sy;
}

describe('a blue-green deployment into a service with no stable release', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await withoutStable({ blueGreen: { autoPromote: true, scaleDownDelay: '1m' } });
  });
  after(async () => sy?.close());

  it('brings the service up with the new release', async () => {
    const deployment = await sy.deploy({ version: 'v2', strategy: 'blue-green', env: { CRASH_ON_START: '0' } });
    const done = await sy.finished(deployment.id, 60_000);
    assert.equal(done.state, 'succeeded', done.reason ?? '');
    assert.deepEqual(new Set(await sy.versions(4)), new Set(['v2']));
    assert.equal((await sy.service()).stable?.version, 'v2');
  });
});

describe('a first deployment that is rolled back', () => {
  let sy: Switchyard;
  before(async () => {
    // postDeploy fails for this one release, so the deployment fails after its promote step.
    sy = await withoutStable({ hooks: { postDeploy: 'if [ "$SWITCHYARD_VERSION" = post-fails ]; then exit 4; fi' } });
  });
  after(async () => sy?.close());

  it('leaves the service without a stable release, as it was', async () => {
    const deployment = await sy.deploy({ version: 'post-fails', env: { CRASH_ON_START: '0' } });
    const done = await sy.finished(deployment.id, 60_000);
    assert.equal(done.state, 'rolled-back', done.reason ?? '');
    assert.match(done.reason ?? '', /postDeploy/);
    const view = await sy.service();
    assert.deepEqual(view.releases.flatMap((r) => r.instances), [], 'its instances were stopped');
    assert.equal(view.stable, null, `the stable release is ${JSON.stringify(view.stable)}`);
  });
});

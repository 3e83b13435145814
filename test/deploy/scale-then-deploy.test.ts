// Specification of a deploy asked for while the service is scaling up (or while a host that joined gets
// its share): it begins once the new instances of the stable release are in rotation, so it plans with
// the count that is true, and none of them is put back into rotation under it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Switchyard } from '../helpers/deploy-harness.js';
import { describeFailures, Load, type LoadReport } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

describe('a deploy during a scale-up', () => {
  let sy: Switchyard;
  before(async () => {
    // Instances of v1 listen 3 s after they start: a scale-up stays under way long enough to deploy into it.
    sy = await Switchyard.start({ instances: 2, env: { START_DELAY_MS: '3000' }, deploy: { strategy: 'rolling', rolling: { maxSurge: 1, maxUnavailable: 0 } } });
  });
  after(async () => sy?.close());

  it('begins once the scale-up is done, replaces every instance, and puts no old one back into rotation', async () => {
    const load = Load.start({ url: sy.proxyUrl, workers: 4, pauseMs: 10, maxDurationMs: 120_000 });
    let report: LoadReport;
    try {
      await waitFor(() => load.count('v1') >= 20, { timeout: 30_000, message: 'v1 answers under load' });
      const scaled = sy.api<{ from: number; to: number }>('POST', '/api/v1/services/web/scale', { instances: 4 });
      await waitFor(async () => (await sy.liveInstances()).filter((i) => i.version === 'v1').length === 4, { timeout: 10_000, interval: 20, message: 'the scale-up to start two more instances' });
      // v2 starts at once: only the scale-up is slow.
      const deployment = sy.deploy({ version: 'v2', env: { START_DELAY_MS: '0' } });
      const scale = await scaled;
      assert.deepEqual([scale.status, scale.body], [200, { from: 2, to: 4 }]);
      const scaledAt = Date.now();
      const { id } = await deployment;
      const done = await sy.finished(id, 120_000);
      assert.equal(done.state, 'succeeded', `${done.reason}\n${sy.logTail()}`);
      // The deployment waited for the scale-up: it began after the four v1 instances were in rotation.
      const began = Date.parse(done.createdAt);
      assert.ok(began >= scaledAt - 1000, `the deployment began ${scaledAt - began} ms before the scale-up answered`);
      const instances = await sy.liveInstances();
      assert.deepEqual(instances.map((i) => [i.version, i.inRotation]), Array(4).fill(['v2', true]), JSON.stringify(instances));
      const finishedAt = Date.now();
      await waitFor(() => load.count('v2', (o) => o.start > finishedAt) >= 20, { timeout: 30_000, message: 'v2 answers after the deploy' });
      assert.equal(load.count('v1', (o) => o.start > finishedAt), 0, 'v1 answered after the deployment ended');
    } finally {
      report = await load.stop();
    }
    assert.equal(report.failed, 0, describeFailures(report));
  });
});

describe('a deploy during a scale-up that outlasts the wait', () => {
  let sy: Switchyard;
  before(async () => {
    // Instances listen 12 s after they start: longer than a request waits for a resize (10 s).
    sy = await Switchyard.start({ instances: 1, env: { START_DELAY_MS: '12000' } });
  });
  after(async () => sy?.close());

  it('is refused with service_busy, naming the scale-up, and changes nothing', async () => {
    const scaled = sy.api<{ from: number; to: number }>('POST', '/api/v1/services/web/scale', { instances: 2 });
    await waitFor(async () => (await sy.liveInstances()).length === 2, { timeout: 10_000, interval: 20, message: 'the scale-up to start an instance' });
    const refused = await sy.api<{ error: { code: string; message: string } }>('POST', '/api/v1/services/web/deployments', { version: 'v2' });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'service_busy');
    assert.match(refused.body.error.message, /web is scaling v1 to 2 instance\(s\); try again once that is done/);
    assert.deepEqual((await sy.deployments()).filter((d) => d.to?.version === 'v2'), [], 'the refused deploy left no deployment');
    const scale = await scaled;
    assert.deepEqual([scale.status, scale.body], [200, { from: 1, to: 2 }]);
    const instances = await sy.liveInstances();
    assert.deepEqual(instances.map((i) => [i.version, i.inRotation]), [['v1', true], ['v1', true]], 'no deployment began');
  });
});

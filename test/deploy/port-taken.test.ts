// Specification of the free-port race: a port chosen for a new instance can be taken by another program
// before the app binds it. The instance crashes on start, moves to another free port and becomes ready.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Switchyard } from '../helpers/deploy-harness.js';
import { waitFor } from '../helpers/wait.js';

describe('an instance whose port is taken before the app binds it', () => {
  let sy: Switchyard;
  let squatter: Server | null = null;
  before(async () => {
    sy = await Switchyard.start({ instances: 1 });
  });
  after(async () => {
    squatter?.close();
    await sy?.close();
  });

  it('moves to another free port and the deployment succeeds', async () => {
    // The app waits 1.5 s before listening: time for this test to take its port first.
    const deployment = await sy.deploy({ version: 'v2', env: { START_DELAY_MS: '1500' } });
    const starting = await waitFor(
      async () => (await sy.service()).releases.find((r) => r.version === 'v2')?.instances[0],
      { timeout: 20_000, interval: 10, message: 'the v2 instance to start' },
    );
    const port = Number(starting.address.slice(starting.address.lastIndexOf(':') + 1));
    squatter = createServer();
    await new Promise<void>((resolve) => squatter!.listen(port, '127.0.0.1', resolve));
    const done = await sy.finished(deployment.id, 60_000);
    assert.equal(done.state, 'succeeded', done.reason ?? '');
    const events = serviceEvents(sy);
    assert.ok(events.includes('instance.crashed'), 'the app failed to bind the taken port');
    assert.ok(events.includes('instance.port-moved'), events.join(', '));
    assert.deepEqual(new Set(await sy.versions(4)), new Set(['v2']));
  });
});

/** The service's event types, read from the state database (instance events belong to no deployment). */
function serviceEvents(sy: Switchyard): string[] {
  return sy.readDb((db) => db.prepare<[], { type: string }>("SELECT type FROM events WHERE service = 'web' ORDER BY id").all().map((r) => r.type));
}

// Specification of crash restarts: an instance that was serving and then crashes again and again is
// never given up on; it keeps restarting with backoff and serves again once the app can.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Switchyard } from '../helpers/deploy-harness.js';
import { waitFor } from '../helpers/wait.js';

// Serves on its first run; the next three runs exit at once; then it serves again.
const FLAKY_APP = `
const fs = require('node:fs');
const runs = Number(fs.existsSync('runs') ? fs.readFileSync('runs', 'utf8') : 0) + 1;
fs.writeFileSync('runs', String(runs));
if (runs >= 2 && runs <= 4) { console.error('crashing on run ' + runs); process.exit(1); }
require('node:http').createServer((req, res) => res.end(JSON.stringify({ version: process.env.APP_VERSION, runs })))
  .listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => process.exit(0));
`;

describe('an instance that crashes repeatedly after it was serving', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await Switchyard.start({ instances: 1, command: [process.execPath, 'flaky.cjs'], files: { 'flaky.cjs': FLAKY_APP }, health: { path: '/' } });
  });
  after(async () => sy?.close());

  it('keeps restarting it with backoff, past the crash-loop count, until it serves again', async () => {
    const [instance] = (await sy.service()).releases[0]!.instances;
    assert.equal(instance!.state, 'ready');
    process.kill(instance!.pid!, 'SIGKILL');
    const back = await waitFor(
      async () => {
        const now = (await sy.service()).releases[0]!.instances[0];
        return now && now.state === 'ready' && now.restarts >= 4 ? now : undefined;
      },
      { timeout: 60_000, message: 'the instance to serve again after 4 restarts' },
    );
    assert.equal(back.id, instance!.id, 'the same instance, restarted in place');
    // "ready" is the controller's view; the proxies route to it once they acknowledged the table that
    // carries its health (a moment later, across processes), so serving is polled, not assumed.
    const answer = await waitFor(
      async () => {
        const reply = await sy.get('/');
        return reply.status === 200 ? reply : undefined;
      },
      { timeout: 10_000, message: 'the proxy to serve from the restarted instance' },
    );
    assert.equal((JSON.parse(answer.body) as { runs: number }).runs, 5, 'served by the fifth run of the app');
  });
});

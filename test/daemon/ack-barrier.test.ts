// Invariant 10 across processes: a routing change is in force only when every proxy worker has
// acknowledged it, and an instance leaves rotation (drains, then gets SIGTERM) only then. A worker that
// cannot acknowledge (stopped with SIGSTOP) holds the deployment until the keeper replaces it; the old
// instances drain only after that, and the deployment then finishes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { DaemonView } from '../../src/api/daemon-view.js';
import { ACK_TIMEOUT_MS } from '../../src/daemon/controller/worker-fleet.js';
import { freePort, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { MARKER_ENV, NODE_APP } from '../helpers/deploy-harness.js';
import { killMarked, plainRequest } from '../helpers/hostile.js';
import { waitFor } from '../helpers/wait.js';

interface DeploymentDetail {
  state: string;
  reason: string | null;
}

interface EventRecord {
  time: string;
  type: string;
  message: string;
  instanceId: string | null;
}

/** Instance events from the state database (read-only), oldest first. */
function instanceEvents(file: string): EventRecord[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[], EventRecord>('SELECT time, type, message, instance_id AS instanceId FROM events WHERE instance_id IS NOT NULL ORDER BY id').all();
  } finally {
    db.close();
  }
}

describe('a proxy worker that does not acknowledge a table', () => {
  let tmp: TempDir;
  let daemon: DaemonProcess;
  let adminUrl: string;
  const api = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
    JSON.parse((await plainRequest(`${adminUrl}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) })).body) as T;

  before(async () => {
    tmp = await tempDir('switchyard-ack-');
    const adminPort = await freePort();
    adminUrl = `http://127.0.0.1:${adminPort}`;
    const config = {
      proxy: { listen: `127.0.0.1:${await freePort()}`, workers: 2, accessLog: { enabled: false } },
      admin: { listen: `127.0.0.1:${adminPort}` },
      state: join(tmp.dir, 'state'),
      services: {
        web: {
          run: { command: [process.execPath, NODE_APP], cwd: tmp.dir, env: { APP_VERSION: '{version}' }, version: 'v1' },
          instances: 2,
          health: { path: '/healthz', interval: '100ms', timeout: '1s' },
          drain: { timeout: '2s' },
          stop: { timeout: '2s' },
        },
      },
    };
    const file = await tmp.write('switchyard.yaml', JSON.stringify(config));
    daemon = await startDaemon(file, { adminUrl, cwd: tmp.dir, env: { [MARKER_ENV]: tmp.dir }, timeout: 30_000 });
  });
  after(async () => {
    await daemon?.kill();
    killMarked(`${MARKER_ENV}=${tmp.dir}`);
    await tmp?.remove();
  });

  it('holds every instance in rotation until the keeper replaced it; only then do old instances drain and stop', { timeout: 120_000 }, async () => {
    await waitFor(async () => (await api<{ stable: unknown; deployment: unknown }>('GET', '/api/v1/services/web')).stable !== null, { timeout: 30_000, message: 'v1 stable' });
    const before = await api<DaemonView>('GET', '/api/v1/daemon');
    const stuck = before.processes.find((p) => p.role === 'proxy' && p.index === 2)!;
    process.kill(stuck.pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    const { id } = await api<{ id: number }>('POST', '/api/v1/services/web/deployments', { version: 'v2' });
    const done = await waitFor(
      async () => {
        const d = await api<DeploymentDetail>('GET', `/api/v1/deployments/${id}`);
        return ['succeeded', 'rolled-back', 'failed'].includes(d.state) ? d : undefined;
      },
      { timeout: 90_000, interval: 100, message: 'the deployment to end' },
    );
    assert.equal(done.state, 'succeeded', done.reason ?? '');

    // The stuck worker was replaced (the keeper says so, and another process is proxy 2 now).
    await daemon.waitForLog('replacing a proxy worker');
    const replacedLine = daemon
      .stderr()
      .split('\n')
      .find((line) => line.includes('replacing a proxy worker'))!;
    const replacedAt = (JSON.parse(replacedLine) as { time: number }).time;
    assert.ok(replacedAt - stoppedAt >= ACK_TIMEOUT_MS - 500, `replaced ${replacedAt - stoppedAt} ms after it stopped answering`);
    const after = await api<DaemonView>('GET', '/api/v1/daemon');
    const proxy2 = after.processes.find((p) => p.role === 'proxy' && p.index === 2);
    assert.ok(proxy2 !== undefined && proxy2.pid !== stuck.pid, 'a new proxy 2');

    // No v1 instance left rotation before every worker had the table without it: the first drain of a
    // v1 instance comes after the replacement, and each SIGTERM after its drain.
    const events = instanceEvents(join(tmp.dir, 'state', 'state.db'));
    const v1Drains = events.filter((e) => e.type === 'instance.draining' && e.instanceId?.startsWith('web-v1'));
    assert.equal(v1Drains.length, 2, JSON.stringify(events.map((e) => e.message)));
    for (const drain of v1Drains) assert.ok(Date.parse(drain.time) >= replacedAt, `${drain.message} at ${drain.time}, before the replacement at ${new Date(replacedAt).toISOString()}`);
    const stops = events.filter((e) => e.type === 'instance.stopped' && e.instanceId?.startsWith('web-v1'));
    assert.equal(stops.length, 2);
    for (const stop of stops) {
      const drain = v1Drains.find((d) => d.instanceId === stop.instanceId)!;
      assert.ok(Date.parse(stop.time) >= Date.parse(drain.time));
      assert.match(stop.message, /after SIGTERM/);
    }
  });
});

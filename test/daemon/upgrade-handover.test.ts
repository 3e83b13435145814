// After an upgrade the old generation drains for up to drain.timeout, still serving what it holds: the
// WebSockets and streams opened on it, and the next request of each of its keep-alive connections. A
// deployment the new generation runs meanwhile must treat those like its own (invariants 2 and 9 across
// generations): the old workers route by the new tables, and an instance leaves only once the old
// generation has drained it too. Found by the zero-downtime bench (a rolling deploy during an upgrade).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'undici';
import WebSocket from 'ws';
import type { DaemonView } from '../../src/api/daemon-view.js';
import { DRAIN_CLOSE_REASON } from '../../src/proxy/websocket-frames.js';
import { freePort, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { MARKER_ENV, NODE_APP } from '../helpers/deploy-harness.js';
import { killMarked, plainRequest } from '../helpers/hostile.js';
import { waitFor } from '../helpers/wait.js';

const DRAIN_MS = 8000;

interface Site {
  tmp: TempDir;
  adminUrl: string;
  proxyPort: number;
  marker: string;
  lifecycleFile: string;
  daemon: DaemonProcess;
}

interface Lifecycle {
  pid: number;
  version: string;
  sigtermAt: number | null;
  webSocketsAtSigterm: number | null;
}

async function newSite(): Promise<Site> {
  const tmp = await tempDir('switchyard-handover-');
  const proxyPort = await freePort();
  const adminPort = await freePort();
  const lifecycleFile = join(tmp.dir, 'lifecycle.jsonl');
  const config = {
    // Idle client connections stay open longer than the test's upgrade and deployment take.
    proxy: { listen: `127.0.0.1:${proxyPort}`, workers: 1, accessLog: { enabled: false }, limits: { keepAliveTimeout: '60s' } },
    admin: { listen: `127.0.0.1:${adminPort}` },
    state: join(tmp.dir, 'state'),
    services: {
      web: {
        run: { command: [process.execPath, NODE_APP], cwd: tmp.dir, env: { APP_VERSION: '{version}', LIFECYCLE_FILE: lifecycleFile }, version: 'v1' },
        instances: 1,
        health: { path: '/healthz', interval: '100ms', timeout: '1s' },
        drain: { timeout: `${DRAIN_MS}ms` },
        stop: { timeout: '1s' },
      },
    },
  };
  const configFile = await tmp.write('switchyard.yaml', JSON.stringify(config));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const daemon = await startDaemon(configFile, { adminUrl, cwd: tmp.dir, env: { [MARKER_ENV]: tmp.dir }, timeout: 30_000 });
  const site = { tmp, adminUrl, proxyPort, marker: `${MARKER_ENV}=${tmp.dir}`, lifecycleFile, daemon };
  await waitFor(async () => (await inRotation(site)).includes('v1'), { timeout: 30_000, message: 'v1 in rotation' });
  return site;
}

async function api<T>(site: Site, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await plainRequest(`${site.adminUrl}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
  });
  return { status: res.status, body: JSON.parse(res.body) as T };
}

/** Versions of the instances in rotation. */
async function inRotation(site: Site): Promise<string[]> {
  const view = await api<{ releases: { version: string; instances: { inRotation: boolean }[] }[] }>(site, 'GET', '/api/v1/services/web').catch(() => null);
  return view?.status === 200 ? view.body.releases.flatMap((r) => r.instances.filter((i) => i.inRotation).map(() => r.version)) : [];
}

function lifecycles(site: Site): Lifecycle[] {
  try {
    return readFileSync(site.lifecycleFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Lifecycle);
  } catch {
    return [];
  }
}

function openWebSocket(port: number): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string; at: number }> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const closed = new Promise<{ code: number; reason: string; at: number }>((done) =>
      ws.once('close', (code: number, reason: Buffer) => done({ code, reason: reason.toString(), at: Date.now() })),
    );
    ws.once('open', () => resolve({ ws, closed }));
    ws.once('error', reject);
  });
}

describe('a deployment while the old generation drains after an upgrade', () => {
  let site: Site | undefined;
  before(async () => {
    site = await newSite();
  });
  after(async () => {
    if (site === undefined) return;
    await site.daemon.kill();
    killMarked(site.marker);
    await site.tmp.remove();
  });

  it('routes the old generation by the new tables and stops an instance only once the old generation drained it', { timeout: 120_000 }, async () => {
    const s = site!;
    // Both opened on generation 1: a WebSocket, and a keep-alive connection with one request done.
    const socket = await openWebSocket(s.proxyPort);
    const client = new Client(`http://127.0.0.1:${s.proxyPort}`, { pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
    try {
      const first = await client.request({ path: '/', method: 'GET' });
      assert.equal(first.statusCode, 200);
      await first.body.dump();

      const upgrade = await api<{ upgrade: { generation: number } }>(s, 'POST', '/api/v1/daemon/upgrade', {});
      assert.equal(upgrade.status, 202, JSON.stringify(upgrade.body));
      await waitFor(async () => {
        const view = await api<DaemonView>(s, 'GET', '/api/v1/daemon').catch(() => null);
        return view?.body.generation === 2 && view.body.upgrade?.state === 'succeeded';
      }, { timeout: 60_000, interval: 50, message: 'generation 2 to serve' });
      const handedOverAt = Date.now();

      // Generation 2 replaces v1 with v2 while generation 1 still holds the WebSocket on v1.
      const deploy = await api<{ id: number }>(s, 'POST', '/api/v1/services/web/deployments', { version: 'v2' });
      assert.equal(deploy.status, 202, JSON.stringify(deploy.body));
      // The split is the controller's once durable; it is in force once the route step is done, which waits
      // for every proxy of both generations to acknowledge it (invariant 10).
      await waitFor(async () => {
        const versions = await inRotation(s);
        const steps = (await api<{ steps: { kind: string; state: string }[] }>(s, 'GET', `/api/v1/deployments/${deploy.body.id}`)).body.steps;
        return versions.length === 1 && versions[0] === 'v2' && steps.some((step) => step.kind === 'route' && step.state === 'done');
      }, { timeout: 30_000, interval: 20, message: 'v2 alone in rotation, the route step done' });

      // The old connection's next request is generation 1's to answer (and it says close): by the new table.
      const next = await client.request({ path: '/', method: 'GET' });
      const text = await next.body.text();
      assert.ok(Date.now() - handedOverAt < DRAIN_MS, 'the request was sent while generation 1 drained');
      assert.equal(next.headers.connection, 'close', 'answered by the draining generation');
      assert.equal(next.statusCode, 200, text);
      assert.equal((JSON.parse(text) as { version: string }).version, 'v2', 'generation 1 routes by the table generation 2 published');

      // The WebSocket on v1 is closed by switchyard at a drain deadline, not by v1 stopping under it.
      const closed = await socket.closed;
      assert.equal(closed.code, 1001);
      assert.equal(closed.reason, DRAIN_CLOSE_REASON, 'closed by switchyard, not by the app told to stop while it still served the socket');
      const v1 = await waitFor(() => lifecycles(s).find((l) => l.version === 'v1'), { timeout: 30_000, message: 'v1 to exit' });
      assert.equal(v1.webSocketsAtSigterm, 0, `v1 got SIGTERM only once no WebSocket was open on it: ${JSON.stringify({ v1, closed, handedOverAt })}`);
      assert.ok(v1.sigtermAt! >= closed.at - 50, 'SIGTERM came after the old generation closed the WebSocket');
      await waitFor(async () => (await api<{ state: string }>(s, 'GET', `/api/v1/deployments/${deploy.body.id}`)).body.state === 'succeeded', {
        timeout: 30_000,
        message: 'the deployment to succeed',
      });
    } finally {
      socket.ws.terminate();
      await client.close().catch(() => undefined);
    }
  });
});

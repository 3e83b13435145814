// Specification of release-aware apps: the proxy tells the app which release and cohort a request was
// routed as, in one request header that a client cannot forge; a retry onto another release says so.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';
import { startBackend, type Backend } from '../helpers/backend.js';
import { freePort } from '../helpers/daemon.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';

const echoHeaders = (req: { headers: IncomingHttpHeaders }, res: { end(body: string): void }, backend: Backend) =>
  res.end(JSON.stringify({ backend: backend.name, headers: req.headers }));

interface Echo {
  backend: string;
  headers: IncomingHttpHeaders;
}

describe('the release header', () => {
  let stable: Backend;
  let canary: Backend;
  let proxy: RunningProxy;
  const agent = new Agent();
  before(async () => {
    stable = await startBackend('stable', echoHeaders);
    canary = await startBackend('canary', echoHeaders);
    const wss = new WebSocketServer({ server: canary.server });
    wss.on('connection', (ws, req) => ws.send(String(req.headers['x-switchyard-release'])));
    proxy = await startProxy({
      services: [
        serviceSpec([
          { name: 'v1', cohort: 'stable', weight: 50, endpoints: [{ id: 's', address: stable.address, weight: 1, healthy: true, healthySince: 0 }] },
          { name: 'v2', cohort: 'canary', weight: 50, endpoints: [{ id: 'c', address: canary.address, weight: 1, healthy: true, healthySince: 0 }] },
        ]),
      ],
    });
  });
  after(async () => {
    await proxy.close();
    await Promise.all([stable.close(), canary.close()]);
    await agent.close();
  });

  const get = async (headers: Record<string, string | string[]> = {}): Promise<Echo> => {
    const res = await request(`${proxy.url}/`, { dispatcher: agent, headers });
    assert.equal(res.statusCode, 200);
    return (await res.body.json()) as Echo;
  };

  it('names the release and cohort each request was routed as', async () => {
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 8; i++) {
      const echo = await get();
      const set = seen.get(echo.backend) ?? new Set<string>();
      set.add(String(echo.headers['x-switchyard-release']));
      seen.set(echo.backend, set);
    }
    assert.deepEqual([...(seen.get('stable') ?? [])], ['v1; cohort=stable']);
    assert.deepEqual([...(seen.get('canary') ?? [])], ['v2; cohort=canary']);
  });

  it('replaces what a client sent, so a client cannot make itself a canary', async () => {
    for (let i = 0; i < 4; i++) {
      const echo = await get({ 'X-Switchyard-Release': 'v2; cohort=canary' });
      assert.equal(echo.headers['x-switchyard-release'], echo.backend === 'stable' ? 'v1; cohort=stable' : 'v2; cohort=canary');
    }
  });

  it('is set on a WebSocket handshake too', async () => {
    const only = await startProxy({ services: [serviceSpec([{ name: 'v2', cohort: 'canary', weight: 100, endpoints: [{ id: 'c', address: canary.address, weight: 1, healthy: true, healthySince: 0 }] }])] });
    const ws = new WebSocket(`${only.url.replace('http', 'ws')}/`, { headers: { 'x-switchyard-release': 'forged' } });
    try {
      const told = await new Promise<string>((resolve, reject) => {
        ws.once('message', (data: Buffer) => resolve(data.toString()));
        ws.once('error', reject);
      });
      assert.equal(told, 'v2; cohort=canary');
    } finally {
      ws.terminate();
      await only.close();
    }
  });

  it('says the release a retry landed on, and takes its name from the config', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const other = await startProxy(
      {
        services: [
          serviceSpec([
            { name: 'v1', cohort: 'stable', weight: 50, endpoints: [{ id: 's', address: stable.address, weight: 1, healthy: true, healthySince: 0 }] },
            { name: 'v2', cohort: 'canary', weight: 50, endpoints: [{ id: 'gone', address: dead, weight: 1, healthy: true, healthySince: 0 }] },
          ]),
        ],
      },
      { releaseHeader: 'x-routed-as' },
    );
    try {
      for (let i = 0; i < 4; i++) {
        const res = await request(`${other.url}/`, { dispatcher: agent, headers: { 'x-routed-as': 'v2; cohort=canary' } });
        assert.equal(res.statusCode, 200);
        const echo = (await res.body.json()) as Echo;
        assert.equal(echo.backend, 'stable');
        assert.equal(echo.headers['x-routed-as'], 'v1; cohort=stable', 'one value: the release that answered');
        assert.equal(echo.headers['x-switchyard-release'], undefined);
      }
    } finally {
      await other.close();
    }
  });
});

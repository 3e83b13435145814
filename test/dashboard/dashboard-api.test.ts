// Specification of what the dashboard adds to the admin listener: the page and its assets open without a
// token (they hold no data), cached and compressed; the per-second series behind the token like the rest.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { waitFor } from '../helpers/wait.js';
import { startFixture, type Fixture } from './daemon-fixture.js';

const TOKEN = 'dashboard-api-token-5b1e0d77';

interface Series {
  seconds: number[];
  releases: { name: string; version: string; number: number | null; role: string; requests: number[]; errorRate: (number | null)[]; p50: (number | null)[]; p99: (number | null)[] }[];
  instances: { id: string; requestsPerSecond: number }[];
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers, reset: true });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

describe('the dashboard on the admin listener', () => {
  let sy: Fixture;
  before(async () => {
    sy = await startFixture({ token: TOKEN });
  });
  after(async () => sy?.close());

  it('serves the shell and its hashed assets without a token, cached for good and gzipped', async () => {
    const shell = await get(`${sy.adminUrl}/`);
    assert.equal(shell.status, 200);
    assert.match(String(shell.headers['content-type']), /^text\/html/);
    assert.equal(shell.headers['cache-control'], 'no-cache');
    const script = /src="\/assets\/(app-[A-Z0-9]+\.js)"/.exec(shell.body.toString())?.[1];
    assert.ok(script, 'the shell names its script');
    const js = await get(`${sy.adminUrl}/assets/${script}`, { 'accept-encoding': 'gzip' });
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-encoding'], 'gzip');
    assert.match(String(js.headers['cache-control']), /immutable/);
    const again = await get(`${sy.adminUrl}/assets/${script}`, { 'if-none-match': String(js.headers.etag) });
    assert.equal(again.status, 304);
  });

  it('opens nothing else without the token', async () => {
    for (const path of ['/assets/..%2Fstate.db', '/api/v1/services/web/timeseries', '/assets', '/index.html']) {
      assert.equal((await get(`${sy.adminUrl}${path}`)).status, 401, path);
    }
    const bearer = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await get(`${sy.adminUrl}/assets/..%2Fstate.db`, bearer)).status, 404);
    assert.equal((await get(`${sy.adminUrl}/assets/missing-AAAAAAAA.js`)).status, 404);
  });

  it('answers per-second series per release, and only the new seconds after `after`', async () => {
    for (let i = 0; i < 20; i++) await (await request(`${sy.proxyUrl}/`, { reset: true })).body.dump();
    // The proxies report each second's counts once it has passed: wait until all 20 are in, then check
    // that none is counted twice.
    const full = await waitFor(
      async () => {
        const res = await sy.api<Series>('GET', '/api/v1/services/web/timeseries?seconds=60');
        return (res.body.releases[0]?.requests.reduce((a, b) => a + b, 0) ?? 0) >= 20 ? res.body : undefined;
      },
      { timeout: 10_000, message: 'all 20 requests in the series' },
    );
    assert.equal(full.seconds.length, 60);
    const [v1] = full.releases;
    assert.deepEqual([v1!.name, v1!.version, v1!.number, v1!.role], ['v1', 'v1', 1, 'stable']);
    assert.equal(v1!.requests.reduce((a, b) => a + b, 0), 20);
    for (const column of [v1!.errorRate, v1!.p50, v1!.p99]) assert.equal(column.length, 60);
    assert.equal(full.instances.length, 2);
    const last = full.seconds.at(-1)!;
    const next = await sy.api<Series>('GET', `/api/v1/services/web/timeseries?after=${last - 2}`);
    assert.deepEqual(next.body.seconds.slice(0, 2), [last - 1, last]);
  });

  it('says what is wrong with a bad query or service', async () => {
    const bad = await sy.api<{ error: { code: string; field: string } }>('GET', '/api/v1/services/web/timeseries?seconds=ten');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'seconds');
    assert.equal((await sy.api('GET', '/api/v1/services/nope/timeseries')).status, 404);
  });
});

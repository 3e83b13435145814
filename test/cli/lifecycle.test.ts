// Specification of the daemon's life as an operator sees it, with `switchyard up` as a real process over
// static targets: serving, reload by SIGHUP and by `switchyard reload`, graceful stop on SIGTERM, the
// admin API's metrics and token.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { echoName, startBackend, type Backend, type Handler } from '../helpers/backend.js';
import {
  freePort,
  refusesConnections,
  runCli,
  startDaemon,
  staticConfig,
  tempDir,
  type DaemonProcess,
  type TempDir,
} from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'lifecycle-test-token-0123456789';
const agent = new Agent({ connections: 8 });

interface Running {
  daemon: DaemonProcess;
  tmp: TempDir;
  configFile: string;
  proxyPort: number;
  proxyUrl: string;
  adminUrl: string;
  /** Rewrites the config file in place (the daemon reads it again on reload). */
  rewrite(targets: Backend[] | string, healthPath?: string): Promise<void>;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; backend: string; body: string }> {
  const res = await request(url, { dispatcher: agent, headers });
  const body = await res.body.text();
  return { status: res.statusCode, backend: String(res.headers['x-backend']), body };
}

/** Holds /slow for 1.5 s; answers everything else at once. Both answer with the backend's name. */
const holdSlow: Handler = (req, res, self) => {
  if (req.url === '/slow') setTimeout(() => echoName(req, res, self), 1500);
  else echoName(req, res, self);
};

describe('the daemon, run by switchyard up', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  after(() => agent.close());

  async function backend(name: string, handler?: Handler): Promise<Backend> {
    const started = await startBackend(name, handler);
    cleanups.push(() => started.close());
    return started;
  }

  async function launch(targets: Backend[], { token, healthPath }: { token?: string; healthPath?: string } = {}): Promise<Running> {
    const tmp = await tempDir();
    cleanups.push(() => tmp.remove());
    const [proxyPort, adminPort] = [await freePort(), await freePort()];
    const config = (list: Backend[], path = healthPath) =>
      staticConfig({ proxyPort, adminPort, targets: list.map((b) => b.address), token, state: `${tmp.dir}/state`, healthPath: path });
    const configFile = await tmp.write('switchyard.yaml', config(targets));
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    const daemon = await startDaemon(configFile, { adminUrl, cwd: tmp.dir });
    cleanups.push(() => daemon.kill());
    return {
      daemon,
      tmp,
      configFile,
      proxyPort,
      proxyUrl: `http://127.0.0.1:${proxyPort}`,
      adminUrl,
      rewrite: async (next, path) => void (await tmp.write('switchyard.yaml', typeof next === 'string' ? next : config(next, path))),
    };
  }

  it('serves requests through its static targets', async () => {
    const a = await backend('a');
    const { proxyUrl } = await launch([a]);
    const answer = await get(`${proxyUrl}/hello`);
    assert.deepEqual([answer.status, answer.backend], [200, 'a']);
    assert.equal(a.requests.at(-1)?.url, '/hello');
  });

  it('adds a target on SIGHUP, and traffic reaches both without a single failed request', async () => {
    const [a, b] = [await backend('a'), await backend('b')];
    const running = await launch([a]);
    const failures: string[] = [];
    let ok = 0;
    let stop = false;
    // Bounded: stops when told to, and after at most 2000 requests per worker.
    const worker = async () => {
      for (let i = 0; i < 2000 && !stop; i++) {
        try {
          const answer = await get(`${running.proxyUrl}/`);
          if (answer.status === 200) ok++;
          else failures.push(`${answer.status} ${answer.body}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const load = Promise.all(Array.from({ length: 4 }, worker));
    try {
      await waitFor(() => ok >= 20, { message: 'load flowing before the reload' });
      await running.rewrite([a, b]);
      const aBefore = a.requests.length;
      running.daemon.signal('SIGHUP');
      await waitFor(() => b.requests.length >= 20, { timeout: 15_000, message: 'traffic on the added target' });
      assert.ok(a.requests.length > aBefore, 'the first target still gets traffic');
    } finally {
      stop = true;
      await load;
    }
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${ok + failures.length} requests failed`);
  });

  it('removes a target on SIGHUP: its request in flight finishes, then it gets no new request, and no request fails', async () => {
    const [a, b] = [await backend('a', holdSlow), await backend('b', holdSlow)];
    const running = await launch([a, b]);
    // Round-robin puts one of the two on each target: b then has a request in flight.
    const slow = Promise.all([get(`${running.proxyUrl}/slow`), get(`${running.proxyUrl}/slow`)]);
    await waitFor(() => b.requests.some((r) => r.url === '/slow'), { message: 'a slow request on b' });

    await running.rewrite([a]);
    running.daemon.signal('SIGHUP');
    const failures: string[] = [];
    const round = async () => {
      for (let i = 0; i < 5; i++) {
        const answer = await get(`${running.proxyUrl}/`);
        if (answer.status !== 200) failures.push(`${answer.status} ${answer.body}`);
      }
    };
    // The reload may roll out as a deployment: wait until a whole round of requests misses b.
    await waitFor(
      async () => {
        const before = b.requests.length;
        await round();
        return b.requests.length === before;
      },
      { timeout: 15_000, message: 'no new request on the removed target' },
    );
    const settled = b.requests.length;
    for (let i = 0; i < 4; i++) await round();
    assert.equal(b.requests.length, settled, 'the removed target got new requests');
    assert.deepEqual(failures, []);
    assert.deepEqual(
      (await slow).map((x) => [x.status, x.body]),
      [
        [200, 'a'],
        [200, 'b'],
      ],
      'the request in flight on the removed target finished',
    );
  });

  it(
    'serves a target again that was removed and re-added by reloads while it was still draining',
    async () => {
      const [a, b] = [await backend('a', holdSlow), await backend('b', holdSlow)];
      const running = await launch([a, b]);
      const reloads = () => running.daemon.stderr().split('config reloaded').length - 1;
      // Round-robin puts one of the two on each target: b then has a request in flight.
      const slow = Promise.all([get(`${running.proxyUrl}/slow`), get(`${running.proxyUrl}/slow`)]);
      await waitFor(() => b.requests.some((r) => r.url === '/slow'), { message: 'a slow request on b' });

      await running.rewrite([a]);
      running.daemon.signal('SIGHUP');
      await waitFor(() => reloads() === 1, { message: 'the first reload' });
      await running.rewrite([a, b]);
      running.daemon.signal('SIGHUP');
      await waitFor(() => reloads() === 2, { message: 'the second reload' });

      assert.deepEqual((await slow).map((x) => x.status), [200, 200]);
      const bBefore = b.requests.length;
      await waitFor(
        async () => {
          const answer = await get(`${running.proxyUrl}/`);
          assert.equal(answer.status, 200);
          return b.requests.length > bBefore;
        },
        { timeout: 3000, message: 'new traffic on the re-added target' },
      );
    },
  );

  it(
    'applies a changed health check to targets that stay on reload',
    async () => {
      const a = await backend('a', (req, res, self) => {
        if (req.url === '/ready') {
          res.statusCode = 503;
          return res.end('not ready');
        }
        echoName(req, res, self);
      });
      const running = await launch([a], { healthPath: '/healthz' });
      assert.equal((await get(`${running.proxyUrl}/`)).status, 200);
      await running.rewrite([a], '/ready');
      running.daemon.signal('SIGHUP');
      await waitFor(() => a.requests.some((r) => r.url === '/ready'), { timeout: 3000, message: 'a probe of the new path' });
      await waitFor(async () => (await get(`${running.proxyUrl}/`)).status === 503, {
        timeout: 3000,
        message: 'the target out of rotation once the new check fails',
      });
    },
  );

  it('refuses an invalid config on `switchyard reload`: the command exits non-zero, the daemon logs why and keeps serving', async () => {
    const a = await backend('a');
    const running = await launch([a]);
    const valid = await readFile(running.configFile, 'utf8');
    await running.rewrite(valid.replace('    health:', '    helth:'));

    // Beside the file, the CLI itself reads it (for the token) and reports the problems without sending anything.
    const here = await runCli(['reload', '--admin', running.adminUrl], { cwd: running.tmp.dir });
    assert.equal(here.code, 2);
    assert.match(here.stderr, /cannot be used to find the daemon, so nothing was sent/);
    assert.match(here.stderr, /services\.web\.helth: unknown key; did you mean `health`\?/);

    // From elsewhere, the daemon reads it, refuses it and says why.
    const elsewhere = join(running.tmp.dir, 'elsewhere');
    mkdirSync(elsewhere);
    const result = await runCli(['reload', '--admin', running.adminUrl], { cwd: elsewhere });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /services\.web\.helth: unknown key; did you mean `health`\?/);
    await running.daemon.waitForLog('helth');

    for (let i = 0; i < 5; i++) {
      const answer = await get(`${running.proxyUrl}/`);
      assert.deepEqual([answer.status, answer.backend], [200, 'a'], 'the old table still serves');
    }
  });

  it('on SIGTERM lets a 1.5 s request in flight finish with 200, refuses new connections, and exits 0', async () => {
    const slow = await backend('slow', (_req, res) => {
      setTimeout(() => res.end('done'), 1500);
    });
    const running = await launch([slow]);
    let answered = false;
    const inFlight = get(`${running.proxyUrl}/slow`).finally(() => (answered = true));
    await waitFor(() => slow.requests.length === 1, { message: 'the slow request at the backend' });

    running.daemon.signal('SIGTERM');
    await waitFor(() => refusesConnections(running.proxyPort), { message: 'the proxy to refuse new connections' });
    assert.equal(answered, false, 'connections were refused while the request was still in flight');

    const answer = await inFlight;
    assert.deepEqual([answer.status, answer.body], [200, 'done']);
    assert.deepEqual(await running.daemon.exited, { code: 0, signal: null });
    assert.equal(await refusesConnections(running.proxyPort), true);
  });

  it('exposes switchyard_requests_total on the admin /metrics', async () => {
    const a = await backend('a');
    const { proxyUrl, adminUrl } = await launch([a]);
    for (let i = 0; i < 3; i++) assert.equal((await get(`${proxyUrl}/`)).status, 200);
    await waitFor(
      async () => {
        const { status, body } = await get(`${adminUrl}/metrics`);
        assert.equal(status, 200);
        const match = /^switchyard_requests_total\{service="web",release="static",code="200"\} (\d+)$/m.exec(body);
        return match !== null && Number(match[1]) >= 3;
      },
      { message: 'three 200s counted in switchyard_requests_total' },
    );
  });

  it('rejects admin requests without the configured token with 401 and accepts them with it', async () => {
    const a = await backend('a');
    const running = await launch([a], { token: TOKEN });
    const metrics = `${running.adminUrl}/metrics`;
    assert.equal((await get(metrics)).status, 401);
    assert.equal((await get(metrics, { authorization: 'Bearer wrong-token-0123456789' })).status, 401);
    assert.equal((await get(metrics, { authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await get(`${running.adminUrl}/api/v1/services`, { authorization: `Bearer ${TOKEN}` })).status, 200);

    // From a folder without a switchyard.yaml, so no token comes from a config file.
    const elsewhere = join(running.tmp.dir, 'elsewhere');
    mkdirSync(elsewhere);
    const refused = await runCli(['reload', '--admin', running.adminUrl], { cwd: elsewhere });
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /refused the token/);
    const accepted = await runCli(['reload', '--admin', running.adminUrl], {
      cwd: elsewhere,
      env: { SWITCHYARD_TOKEN: TOKEN },
    });
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal(accepted.stdout.trim(), 'config reloaded: nothing changed');

    // A new health path is in force now; a new proxy port only after a restart. The reload says which is which.
    const config = await readFile(running.configFile, 'utf8');
    await running.rewrite(config.replace(`listen: 127.0.0.1:${running.proxyPort}`, 'listen: 127.0.0.1:1').replace('interval: 100ms', 'interval: 200ms'));
    const changed = await runCli(['reload', '--admin', running.adminUrl], { cwd: elsewhere, env: { SWITCHYARD_TOKEN: TOKEN } });
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(changed.stdout.trim().split('\n'), [
      'config reloaded',
      '  in effect now:       services.web.health',
      '  after a restart:     proxy.listen (`switchyard up` reads these only when it starts)',
    ]);
  });
});

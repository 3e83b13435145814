// The admin surface (issue 7, points 5 and 6) against a real `switchyard up` whose token comes from a file:
// every route but /healthz needs the token and says nothing without it; guessing is throttled and logged;
// no CORS; no admin listener beyond loopback without a token; no --token flag; API input is checked before
// use (no path traversal through logs, safe names and versions, env values never reach a shell); the state
// folder and log files are the owner's alone.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, refusesConnections, runCli, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { instanceProcesses, killMarked, plainRequest, stablePort, type PlainResponse } from '../helpers/hostile.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'hardening-token-0123456789abcdef';
const SECRET = 'TOP-SECRET-OUTSIDE-THE-STATE-FOLDER';
const UNAUTHORIZED = { error: { code: 'unauthorized', message: 'missing or wrong bearer token' } };

/** The app: reports its version and the environment values the test cares about. */
const APP = `
import { createServer } from 'node:http';
const env = process.env;
createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ version: env.APP_VERSION, evil: env.EVIL ?? null, evil2: env.EVIL2 ?? null, evil3: env.EVIL3 ?? null, token: env.SWITCHYARD_TOKEN ?? null }));
}).listen(Number(env.PORT), env.HOST ?? '127.0.0.1', () => console.log('app ' + env.APP_VERSION + ' up'));
`;

/** Every route of the admin API that needs the token, with a body for the POSTs. */
const ROUTES: { method: 'GET' | 'POST'; path: string; body?: string }[] = [
  { method: 'GET', path: '/api/v1/services' },
  { method: 'GET', path: '/api/v1/services/web' },
  { method: 'GET', path: '/api/v1/services/web/deployments' },
  { method: 'GET', path: '/api/v1/deployments/1' },
  { method: 'GET', path: '/api/v1/events' },
  { method: 'GET', path: '/metrics' },
  { method: 'GET', path: '/api/v1/services/web/logs' },
  { method: 'GET', path: '/api/v1/services/web/timeseries' },
  { method: 'POST', path: '/api/v1/services/web/deployments', body: '{"version":"v9"}' },
  { method: 'POST', path: '/api/v1/services/web/promote', body: '{}' },
  { method: 'POST', path: '/api/v1/services/web/pause', body: '{}' },
  { method: 'POST', path: '/api/v1/services/web/resume', body: '{}' },
  { method: 'POST', path: '/api/v1/services/web/abort', body: '{}' },
  { method: 'POST', path: '/api/v1/services/web/rollback', body: '{}' },
  { method: 'POST', path: '/api/v1/services/web/scale', body: '{"instances":3}' },
  { method: 'POST', path: '/api/v1/reload', body: '{}' },
  { method: 'GET', path: '/api/v1/nothing-here' },
];

interface Running {
  tmp: TempDir;
  daemon: DaemonProcess;
  adminUrl: string;
  proxyUrl: string;
  tokenFile: string;
  marker: string;
}

describe('the admin surface of a daemon with a token file', () => {
  let r: Running;
  let nextAddress = 1;
  /** A fresh loopback source address, so the failures of one test never throttle another. */
  const freshAddress = () => `127.0.${Math.floor(nextAddress / 250) + 1}.${(nextAddress++ % 250) + 1}`;

  before(async () => {
    const tmp = await tempDir('switchyard-admin-');
    const proxyPort = await stablePort();
    const adminPort = await stablePort();
    const tokenFile = await tmp.write('admin.token', `${TOKEN}\n`);
    await chmod(tokenFile, 0o600);
    await tmp.write('app.mjs', APP);
    await tmp.write('secret.txt', `${SECRET}\n`);
    const config = {
      proxy: { listen: `127.0.0.1:${proxyPort}`, accessLog: { enabled: false } },
      admin: { listen: `127.0.0.1:${adminPort}`, tokenFile: './admin.token' },
      state: './state',
      services: {
        web: {
          // A string runs through /bin/sh: the place where an env value could be misread as shell code.
          run: { command: `"${process.execPath}" app.mjs`, cwd: tmp.dir, env: { APP_VERSION: '{version}' }, version: 'v1' },
          instances: 1,
          health: { path: '/healthz', interval: '100ms', timeout: '1s', startTimeout: '20s' },
          drain: { timeout: '1s' },
          stop: { timeout: '1s' },
        },
      },
    };
    const configFile = await tmp.write('daemon.yaml', `${JSON.stringify(config, null, 2)}\n`);
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    const marker = `SY_TEST_RUN_MARKER=${tmp.dir}`;
    // SWITCHYARD_TOKEN in the daemon's environment: its apps must not inherit it.
    const daemon = await startDaemon(configFile, { adminUrl, cwd: tmp.dir, env: { SY_TEST_RUN_MARKER: tmp.dir, SWITCHYARD_TOKEN: TOKEN } });
    r = { tmp, daemon, adminUrl, proxyUrl: `http://127.0.0.1:${proxyPort}`, tokenFile, marker };
    await waitFor(async () => (await plainRequest(`${r.proxyUrl}/`)).status === 200, { timeout: 20_000, interval: 100, message: 'the app to serve' });
  });

  after(async () => {
    if (r === undefined) return;
    r.daemon.signal('SIGTERM');
    const stopped = await Promise.race([r.daemon.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref())]);
    if (!stopped) await r.daemon.kill();
    killMarked(r.marker);
    await r.tmp.remove();
  });

  function call(method: string, path: string, options: { token?: string | null; body?: string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<PlainResponse> {
    const token = options.token === undefined ? TOKEN : options.token;
    const headers: Record<string, string> = { ...options.headers };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    return plainRequest(`${r.adminUrl}${path}`, { method, headers, body: options.body, localAddress: options.localAddress ?? '127.0.0.1' });
  }

  function assertNoCors(res: PlainResponse, what: string): void {
    const cors = Object.keys(res.headers).filter((name) => name.startsWith('access-control-'));
    assert.deepEqual(cors, [], `${what}: no CORS header`);
  }

  async function deployment(id: number): Promise<{ state: string; reason: string | null }> {
    return JSON.parse((await call('GET', `/api/v1/deployments/${id}`)).body) as { state: string; reason: string | null };
  }

  it('answers /healthz without a token, and says no more than that it is up', async () => {
    const res = await call('GET', '/healthz', { token: null });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { ok: true });
    assertNoCors(res, '/healthz');
  });

  it('answers 401 on every API route without the token, with a wrong one or a malformed header, and leaks no data', async () => {
    const attempts: { name: string; headers: Record<string, string> }[] = [
      { name: 'no header', headers: {} },
      { name: 'wrong token', headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` } },
      { name: 'token as Basic', headers: { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` } },
      { name: 'token in a cookie', headers: { cookie: `token=${TOKEN}` } },
    ];
    for (const route of ROUTES) {
      // One source address per route keeps each under the throttle's 10 failures.
      const localAddress = freshAddress();
      for (const attempt of attempts) {
        const res = await call(route.method, route.path, { token: null, headers: attempt.headers, body: route.body, localAddress });
        const what = `${route.method} ${route.path} (${attempt.name})`;
        assert.equal(res.status, 401, what);
        assert.equal(res.headers['www-authenticate'], 'Bearer', what);
        assert.deepEqual(JSON.parse(res.body), UNAUTHORIZED, `${what}: the body is the bare error`);
        assertNoCors(res, what);
      }
    }
    // Nothing was acted on: no deployment, no scale, no reload.
    const service = JSON.parse((await call('GET', '/api/v1/services/web')).body) as { stable: { version: string }; instancesWanted: number; deployment: unknown };
    assert.deepEqual([service.stable.version, service.instancesWanted, service.deployment], ['v1', 1, null]);
  });

  it('serves the same routes with the token, none with a CORS allowance, and refuses a cross-origin preflight', async () => {
    const origin = { origin: 'https://evil.example' };
    // Bodies the API refuses, so this sweep changes nothing.
    const refused: Record<string, string> = { '/api/v1/services/web/deployments': '{}', '/api/v1/services/web/scale': '{"instances":0}' };
    for (const route of ROUTES.filter((x) => x.path !== '/api/v1/events' && x.path !== '/api/v1/reload')) {
      const res = await call(route.method, route.path, { body: refused[route.path] ?? route.body, headers: origin });
      assert.notEqual(res.status, 401, `${route.method} ${route.path} with the token`);
      assert.ok(res.status < 500, `${route.method} ${route.path}: ${res.status} ${res.body}`);
      assertNoCors(res, `${route.method} ${route.path}`);
    }
    const service = JSON.parse((await call('GET', '/api/v1/services/web')).body) as { stable: { version: string }; instancesWanted: number; deployment: unknown };
    assert.deepEqual([service.stable.version, service.instancesWanted, service.deployment], ['v1', 1, null], 'the refused bodies changed nothing');
    for (const token of [null, TOKEN]) {
      const preflight = await call('OPTIONS', '/api/v1/services/web/deployments', {
        token,
        localAddress: freshAddress(),
        headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      assert.ok(preflight.status >= 400, `the preflight is refused (${preflight.status})`);
      assertNoCors(preflight, `OPTIONS preflight ${token === null ? 'without' : 'with'} a token`);
    }
  });

  it('keeps the token out of the daemon command line and out of its apps’ environment', async () => {
    const cmdline = readFileSync(`/proc/${r.daemon.pid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(TOKEN), 'the token is not on the command line (ps)');
    const apps = [...instanceProcesses(r.marker).keys()];
    assert.ok(apps.length > 0, 'the app runs');
    for (const pid of apps) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      assert.deepEqual(environ.filter((e) => e.startsWith('SWITCHYARD_TOKEN')), [], `app ${pid} did not inherit the token`);
    }
    const answer = JSON.parse((await plainRequest(`${r.proxyUrl}/`)).body) as { token: string | null };
    assert.equal(answer.token, null);
  });

  it('refuses path traversal through logs and assets: 400 or 404, never a file’s content', async () => {
    const good = await call('GET', '/api/v1/services/web/logs');
    assert.equal(good.status, 200);
    assert.match(good.body, /app v1 up/, 'the real log is readable with the token');
    const attempts = [
      '/api/v1/services/web/logs?instance=../../etc/passwd',
      '/api/v1/services/web/logs?instance=..%2F..%2F..%2Fetc%2Fpasswd',
      '/api/v1/services/web/logs?instance=%2e%2e%2f%2e%2e%2fsecret.txt',
      '/api/v1/services/web/logs?instance=..%252F..%252Fsecret.txt',
      '/api/v1/services/web/logs?instance=/etc/passwd',
      '/api/v1/services/web/logs?instance=web%00../../secret.txt',
      '/api/v1/services/..%2F..%2Fsecret.txt/logs',
      '/api/v1/services/..%2F..%2F..%2Fetc%2Fpasswd/logs',
      '/api/v1/services/%2e%2e/logs',
      '/api/v1/services/web%2F..%2F..%2F..%2Fsecret.txt/logs',
      '/api/v1/services/../../../etc/passwd/logs',
      '/api/v1/services/web/../../../../secret.txt',
      '/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    ];
    for (const path of attempts) {
      for (const token of [TOKEN, null]) {
        const res = await call('GET', path, { token, localAddress: token === null ? freshAddress() : undefined });
        assert.ok([400, 401, 404].includes(res.status), `${path}: ${res.status} ${res.body.slice(0, 200)}`);
        assert.ok(!res.body.includes('root:x:0:0') && !res.body.includes(SECRET), `${path}: no file content`);
      }
    }
    for (const bytes of ['-1', '1e309', 'NaN', '99999999999']) {
      const res = await call('GET', `/api/v1/services/web/logs?bytes=${bytes}`);
      assert.equal(res.status, 200, `bytes=${bytes}`);
      assert.ok(!res.body.includes(SECRET));
    }
  });

  it('rejects service names and versions outside the safe patterns, naming the field', async () => {
    const countDeployments = async () => (JSON.parse((await call('GET', '/api/v1/services/web/deployments')).body) as { deployments: unknown[] }).deployments.length;
    const deploymentsBefore = await countDeployments();
    for (const name of ['WEB', 'web;id', '..', '.hidden', 'web%20x', 'a'.repeat(64), '%24(id)']) {
      const res = await call('POST', `/api/v1/services/${name}/deployments`, { body: '{"version":"v2"}' });
      assert.equal(res.status, 404, `service ${name}: ${res.body}`);
      // A bare `..` segment is resolved away before routing (no route); every other name is named as a service.
      const message = (JSON.parse(res.body) as { error: { message: string } }).error.message;
      assert.match(message, name === '..' ? /^no route/ : /^service ".*" not found/, `service ${name}: ${message}`);
    }
    const versions = ['../../etc', 'v2;id', '$(id)', '`id`', '', ' v2', 'v2\n', 'a'.repeat(65), '-v2', 'v2/..', 'v2 && id', 7, null, ['v2']];
    for (const version of versions) {
      const res = await call('POST', '/api/v1/services/web/deployments', { body: JSON.stringify({ version }) });
      assert.equal(res.status, 400, `version ${JSON.stringify(version)}: ${res.body}`);
      assert.equal((JSON.parse(res.body) as { error: { field?: string } }).error.field, 'version', `version ${JSON.stringify(version)}`);
    }
    for (const [body, field] of [
      [{ version: 'v2', env: { 'A B': 'x' } }, 'env.A B'],
      [{ version: 'v2', env: { 'X;id': 'x' } }, 'env.X;id'],
      [{ version: 'v2', env: { X: 1 } }, 'env.X'],
      [{ version: 'v2', strategy: 'rm -rf' }, 'strategy'],
      [{ version: 'v2', command: 'id' }, 'command'],
    ] as const) {
      const res = await call('POST', '/api/v1/services/web/deployments', { body: JSON.stringify(body) });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal((JSON.parse(res.body) as { error: { field?: string } }).error.field, field);
    }
    const rollback = await call('POST', '/api/v1/services/web/rollback', { body: JSON.stringify({ to: '../../v1' }) });
    assert.equal(rollback.status, 400, rollback.body);
    assert.equal((JSON.parse(rollback.body) as { error: { field?: string } }).error.field, 'to');
    assert.equal(await countDeployments(), deploymentsBefore, 'no deployment was created by a rejected request');
  });

  it('passes shell metacharacters in env values to the app as literal values and executes nothing', async () => {
    const markers = ['pwned-1', 'pwned-2', 'pwned-3', 'pwned-4'].map((name) => join(r.tmp.dir, name));
    const env = {
      EVIL: `$(touch ${markers[0]})`,
      EVIL2: `\`touch ${markers[1]}\`; touch ${markers[2]} && echo`,
      EVIL3: `'; touch ${markers[3]}; echo '\n$HOME`,
    };
    const res = await call('POST', '/api/v1/services/web/deployments', { body: JSON.stringify({ version: 'v2', env }) });
    assert.equal(res.status, 202, res.body);
    const { id } = JSON.parse(res.body) as { id: number };
    const done = await waitFor(
      async () => {
        const d = await deployment(id);
        return ['succeeded', 'rolled-back', 'failed'].includes(d.state) ? d : undefined;
      },
      { timeout: 30_000, interval: 100, message: `deployment ${id} to finish` },
    );
    assert.equal(done.state, 'succeeded', done.reason ?? '');
    const answer = JSON.parse((await plainRequest(`${r.proxyUrl}/`)).body) as { version: string; evil: string; evil2: string; evil3: string };
    assert.deepEqual(answer, { version: 'v2', evil: env.EVIL, evil2: env.EVIL2, evil3: env.EVIL3, token: null });
    for (const marker of markers) assert.equal(existsSync(marker), false, `${marker} was not created`);
  });

  it('keeps the state folder and its log folders 0700 and every file in them 0600', async () => {
    const state = join(r.tmp.dir, 'state');
    const seen: string[] = [];
    const walk = (dir: string): void => {
      assert.equal(statSync(dir).mode & 0o777, 0o700, `${dir} is 0700`);
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const stat = statSync(path);
        if (stat.isDirectory()) walk(path);
        else {
          seen.push(path.slice(state.length + 1));
          assert.equal(stat.mode & 0o777, 0o600, `${path} is 0600`);
        }
      }
    };
    walk(state);
    assert.ok(seen.includes('state.db'), seen.join(', '));
    assert.ok(seen.some((p) => p.startsWith('logs/web/') && p.endsWith('.log')), `instance logs are there: ${seen.join(', ')}`);
  });

  it('blocks an address after 10 wrong tokens: the 11th gets 429 with Retry-After even with the right token, and the log has the failures', async () => {
    const attacker = '127.0.0.77';
    for (let i = 0; i < 10; i++) {
      const res = await call('GET', '/api/v1/services', { token: `wrong-token-${i}-xxxxxxxxxxxxxxxx`, localAddress: attacker });
      assert.equal(res.status, 401, `attempt ${i + 1}`);
    }
    const blocked = await call('GET', '/api/v1/services', { localAddress: attacker });
    assert.equal(blocked.status, 429);
    const retryAfter = Number(blocked.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60, `Retry-After: ${blocked.headers['retry-after']}`);
    assert.equal((JSON.parse(blocked.body) as { error: { code: string } }).error.code, 'too_many_attempts');
    assert.ok(!blocked.body.includes('web'), 'the 429 says nothing about the services');
    // Another address is not affected, and /healthz stays open to the blocked one.
    assert.equal((await call('GET', '/api/v1/services')).status, 200);
    assert.equal((await call('GET', '/healthz', { token: null, localAddress: attacker })).status, 200);

    await r.daemon.waitForLog(/"address":"127\.0\.0\.77".*"blocked":true/);
    const failures = r.daemon
      .stderr()
      .split('\n')
      .filter((line) => line.includes('"address":"127.0.0.77"'));
    assert.equal(failures.length, 10, `each failure is logged once:\n${failures.join('\n')}`);
    assert.ok(failures.every((line) => !line.includes('wrong-token')), 'the guessed tokens are not logged');
  });

  it('has no --token option (exit 2) and reads --token-file or SWITCHYARD_TOKEN instead', async () => {
    const cwd = r.tmp.dir;
    const withFlag = await runCli(['status', '--admin', r.adminUrl, '--token', TOKEN], { cwd });
    assert.equal(withFlag.code, 2, withFlag.stderr);
    assert.match(withFlag.stderr, /unknown option '--token'/);
    const fromFile = await runCli(['status', 'web', '--json', '--admin', r.adminUrl, '--token-file', r.tokenFile], { cwd });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal((JSON.parse(fromFile.stdout) as { name: string }).name, 'web');
    const fromEnv = await runCli(['status', 'web', '--json', '--admin', r.adminUrl], { cwd, env: { SWITCHYARD_TOKEN: TOKEN } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    // From a folder without a switchyard.yaml, so no token comes from a config file.
    const elsewhere = join(cwd, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    const without = await runCli(['status', '--admin', r.adminUrl], { cwd: elsewhere });
    assert.equal(without.code, 3, `unauthorized is exit 3: ${without.stderr}`);
  });
});

describe('an admin listener beyond loopback without a token', () => {
  let tmp: TempDir;
  before(async () => {
    tmp = await tempDir('switchyard-admin-open-');
  });
  after(async () => tmp.remove());

  for (const listen of ['0.0.0.0', '[::]']) {
    it(`is refused by validate and up with exit 2 and a message naming admin.listen (${listen})`, async () => {
      const adminPort = await freePort();
      const proxyPort = await freePort();
      const file = await tmp.write(
        `open-${adminPort}.yaml`,
        [
          `proxy: { listen: 127.0.0.1:${proxyPort} }`,
          `admin: { listen: "${listen}:${adminPort}" }`,
          `state: ${join(tmp.dir, 'state')}`,
          'services:',
          '  web: { targets: [127.0.0.1:9] }',
          '',
        ].join('\n'),
      );
      const validate = await runCli(['validate', '-c', file], { cwd: tmp.dir });
      assert.equal(validate.code, 2, validate.stdout + validate.stderr);
      assert.match(validate.stderr, /:2: admin\.listen: .*token/);
      const up = await runCli(['up', '-c', file], { cwd: tmp.dir, timeout: 15_000 });
      assert.equal(up.code, 2, up.stdout + up.stderr);
      assert.match(up.stderr, /admin\.listen/);
      assert.ok(await refusesConnections(adminPort), 'nothing listens on the admin port');
      assert.equal(existsSync(join(tmp.dir, 'state')), false, 'nothing was written');
    });
  }
});

// Property-based tests (issue 7, point 7), seeded and bounded: random and mangled configs always give a
// Config or a ConfigError whose every problem is located, never another exception; random API bodies to
// the deploy, scale, rollback and promote routes of a running daemon always get a 2xx or a JSON 4xx,
// never a 5xx or a crash, and a rejected request changes nothing in the running state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { parseDocument, stringify } from 'yaml';
import type { DaemonView } from '../../src/api/daemon-view.js';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { startBackend, type Backend } from '../helpers/backend.js';
import { freePort, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { plainRequest } from '../helpers/hostile.js';
import { waitFor } from '../helpers/wait.js';

const SEED = 0x5eed;
const RUNS = 200;
const FILE = '/srv/app/switchyard.yaml';

const VALID_CONFIG = `proxy:
  listen: 127.0.0.1:8080
  limits: { headersTimeout: 10s, maxBodySize: 1mb, sendTimeout: 30s }
admin:
  listen: 127.0.0.1:8081
state: ./.switchyard
services:
  web:
    match: { hosts: [app.example.com], pathPrefix: /, stripPrefix: false }
    run:
      command: node server.js
      cwd: ./releases/{version}
      env: { APP_VERSION: "{version}", WORKERS: 4 }
      version: v1
    instances: 2
    health: { path: /healthz, interval: 1s, timeout: 2s, healthyThreshold: 1, unhealthyThreshold: 3 }
    balance: round-robin
    sticky: { cookie: sy-web }
    timeouts: { connect: 2s, response: 60s, idle: 60s }
    retries: 2
    drain: { timeout: 30s }
    deploy:
      strategy: canary
      canary:
        steps: [ { weight: 5, pause: 30s }, { weight: 50, pause: 1m } ]
        route: [ { header: x-canary, value: "1" } ]
      analysis: { interval: 10s, minRequests: 50, maxErrorRate: 1%, maxP99Latency: 500ms }
      hooks: { preDeploy: "npm run migrate" }
  api:
    targets: [10.0.0.5:3000, "\${API_HOST:-10.0.0.6}:3000"]
    match: { pathPrefix: /api }
`;

const KEYS = [
  'proxy', 'admin', 'state', 'services', 'web', 'api', 'listen', 'limits', 'token', 'tokenFile', 'accessLog', 'match', 'hosts',
  'pathPrefix', 'run', 'command', 'cwd', 'env', 'version', 'targets', 'instances', 'health', 'path', 'interval', 'timeout',
  'balance', 'hashKey', 'sticky', 'cookie', 'timeouts', 'retries', 'drain', 'stop', 'signal', 'deploy', 'strategy', 'rolling',
  'maxSurge', 'blueGreen', 'canary', 'steps', 'weight', 'pause', 'analysis', 'hooks', 'preDeploy', 'outlier', 'maxBodySize',
  'headersTimeout', 'sendTimeout', 'maxConnections', 'lisen', 'servics', 'constructor', '__proto__', 'toString', '',
];

const scalar = fc.oneof(
  fc.string(),
  fc.constantFrom('10s', '1 sec', '500ms', '-1s', '0', '1%', '150%', '16kb', '1e9', '127.0.0.1:8080', '0.0.0.0:80', '[::1]:0', 'host:99999', '${X}', '${X:-1s}', '${', '$${x}', 'rolling', 'canary', 'hash', 'v1', '{version}', 'yes', 'null', '~'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

/** Objects whose keys are mostly ones the config knows, nested a few levels, with values of any type. */
const configish: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), tie('node'), { maxKeys: 6 }),
  ),
})).node;

/** Text made of YAML's own punctuation and the config's words: mostly nearly-YAML, sometimes YAML. */
const yamlSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom('services:', 'proxy:', '  web:', '    targets: [', '127.0.0.1:3000', ']', '{', '}', '- ', ': ', '\n', '\n  ', '  ', '#', '"', "'", '${X}', '${', '!!str ', '!!int ', '|', '>', '? ', '---\n', '...\n', '%YAML 1.2\n', '\t', ',', 'run: { command: x, version: v1 }', 'health: { interval: 1 sec }', '\u0000', '\ufeff', '\r\n'),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

/** The valid config with a few random edits: lines dropped, duplicated, re-indented, values replaced, text cut. */
const mutatedConfig = fc
  .array(
    fc.tuple(fc.constantFrom('drop', 'duplicate', 'indent', 'dedent', 'value', 'insert', 'truncate', 'char'), fc.nat(), fc.nat(), scalar),
    { minLength: 1, maxLength: 4 },
  )
  .map((edits) => {
    let lines = VALID_CONFIG.split('\n');
    for (const [op, a, b, value] of edits) {
      const i = a % lines.length;
      const line = lines[i]!;
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      switch (op) {
        case 'drop':
          lines.splice(i, 1);
          break;
        case 'duplicate':
          lines.splice(i, 0, line);
          break;
        case 'indent':
          lines[i] = `  ${line}`;
          break;
        case 'dedent':
          lines[i] = line.replace(/^ {1,2}/, '');
          break;
        case 'value':
          lines[i] = line.includes(':') ? `${line.slice(0, line.indexOf(':') + 1)} ${text}` : text;
          break;
        case 'insert':
          lines.splice(i, 0, `${line.match(/^ */)![0]}${KEYS[b % KEYS.length]}: ${text}`);
          break;
        case 'truncate':
          lines = lines.join('\n').slice(0, b % VALID_CONFIG.length).split('\n');
          break;
        case 'char':
          lines[i] = line.slice(0, b % (line.length + 1)) + (text[0] ?? '') + line.slice(b % (line.length + 1));
          break;
      }
    }
    return lines.join('\n');
  });

/** Anchors, aliases and merge keys: YAML features whose expansion happens after parsing. */
const aliasSoup = fc
  .array(fc.constantFrom('a: &a [x, x, x]\n', 'b: &b [*a, *a, *a, *a]\n', 'c: [*b, *b, *b, *b, *b]\n', 'd: *nope\n', '<<: 5\n', '<<: *a\n', 'services: &s { web: { targets: [127.0.0.1:1] } }\n', 'x: *s\n', 'e: &e { <<: *e }\n'), {
    minLength: 1,
    maxLength: 6,
  })
  .map((parts) => parts.join(''));

/** Outcomes seen, so each test can say what its inputs exercised. */
const outcomes = { valid: 0, invalid: 0, syntax: 0 };

/** Checks the contract of parseConfig for one text (throws on a violation) and counts the outcome. */
function checkParse(text: string): void {
  let config: unknown;
  try {
    config = parseConfig(text, FILE, {});
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      throw new Error(`parseConfig threw ${(err as Error)?.name}: ${(err as Error)?.message} for ${JSON.stringify(text)}`);
    }
    assert.ok(err.problems.length > 0, 'a ConfigError lists at least one problem');
    if (err.code === 'SY_ERR_CONFIG_SYNTAX') outcomes.syntax++;
    else outcomes.invalid++;
    const lines = text.split(/\r\n|\r|\n/).length;
    const parses = parseDocument(text).errors.length === 0;
    for (const problem of err.problems) {
      assert.equal(typeof problem.path, 'string', `a path for ${JSON.stringify(problem)}`);
      assert.ok(problem.message.length > 0, 'a message');
      assert.ok(!/\n\s+at /.test(problem.message), `no stack trace in ${problem.message}`);
      if (parses || err.code === 'SY_ERR_CONFIG_SYNTAX') {
        assert.ok(
          problem.line !== undefined && Number.isInteger(problem.line) && problem.line >= 1 && problem.line <= lines + 1,
          `problem ${JSON.stringify(problem)} has a line within the ${lines}-line text ${JSON.stringify(text.slice(0, 200))}`,
        );
      }
    }
    return;
  }
  assert.ok(typeof config === 'object' && config !== null && 'services' in config, 'a Config has services');
  outcomes.valid++;
}

function reportOutcomes(t: { diagnostic(message: string): void }): void {
  t.diagnostic(`valid ${outcomes.valid}, invalid ${outcomes.invalid}, syntax errors ${outcomes.syntax}`);
  outcomes.valid = outcomes.invalid = outcomes.syntax = 0;
}

describe('parseConfig on random input', () => {
  it('returns a Config or throws a ConfigError with located problems for random config-shaped objects', (t) => {
    fc.assert(
      fc.property(configish, fc.boolean(), (value, asJson) => {
        checkParse(asJson ? JSON.stringify(value) ?? 'null' : stringify(value));
      }),
      { numRuns: RUNS, seed: SEED },
    );
    reportOutcomes(t);
  });

  it('does the same for random text and YAML punctuation', (t) => {
    fc.assert(
      fc.property(fc.oneof(yamlSoup, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 })), (text) => checkParse(text)),
      { numRuns: RUNS, seed: SEED },
    );
    reportOutcomes(t);
  });

  it('does the same for random edits of a valid config', (t) => {
    checkParse(VALID_CONFIG);
    assert.ok(parseConfig(VALID_CONFIG, FILE, {}).services.web, 'the unedited config is valid');
    fc.assert(
      fc.property(mutatedConfig, (text) => checkParse(text)),
      { numRuns: RUNS, seed: SEED },
    );
    reportOutcomes(t);
  });

  it(
    'does the same for anchors, aliases and merge keys (an alias bomb, an unknown alias, a bad merge)',
    () => {
      const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
      for (let i = 1; i < 8; i++) bomb.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(10).fill(`*${'abcdefgh'[i - 1]}`).join(', ')}]`);
      checkParse([...bomb, 'services: { web: { targets: [127.0.0.1:1] } }'].join('\n'));
      checkParse('services: { web: { targets: [127.0.0.1:1] } }\nx: *nope\n');
      checkParse('services: { web: { targets: [127.0.0.1:1], <<: 5 } }\n');
      fc.assert(
        fc.property(aliasSoup, (text) => checkParse(text)),
        { numRuns: RUNS, seed: SEED },
      );
    },
  );
});

// --- the admin API of a running daemon

type Route = 'deployments' | 'scale' | 'rollback' | 'promote';

const VALID_LABEL = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,10}$/);

describe('the admin API on random bodies', () => {
  let tmp: TempDir;
  let backend: Backend;
  let daemon: DaemonProcess;
  let adminUrl: string;
  let db: Database.Database;

  const getJson = async <T>(path: string): Promise<T> => JSON.parse((await plainRequest(`${adminUrl}${path}`)).body) as T;
  /** The deployment in progress, if any (the service view says). */
  const activeDeployment = async () => (await getJson<{ deployment: { id: number; state: string } | null }>('/api/v1/services/web')).deployment;

  before(async () => {
    tmp = await tempDir('switchyard-property-');
    backend = await startBackend('app');
    const adminPort = await freePort();
    adminUrl = `http://127.0.0.1:${adminPort}`;
    const config = [
      'proxy: { listen: 127.0.0.1:0, accessLog: { enabled: false } }',
      `admin: { listen: 127.0.0.1:${adminPort} }`,
      `state: ${tmp.dir}/state`,
      'services:',
      '  web:',
      `    targets: [${backend.address}]`,
      '    health: { interval: 50ms, timeout: 1s }',
      '    drain: { timeout: 200ms }',
      '    deploy: { blueGreen: { scaleDownDelay: 0s } }',
      '',
    ].join('\n');
    const configFile = await tmp.write('switchyard.yaml', config);
    daemon = await startDaemon(configFile, { adminUrl, cwd: tmp.dir });
    db = new Database(join(tmp.dir, 'state', 'state.db'), { readonly: true, fileMustExist: true });
    await waitFor(async () => (await getJson<{ stable: unknown }>('/api/v1/services/web')).stable !== null && (await activeDeployment()) === null, { message: 'the first release' });
  });

  after(async () => {
    db?.close();
    await daemon?.kill();
    await backend?.close();
    await tmp?.remove();
  });

  const countRows = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

  /** What must not change when a request is rejected. */
  async function snapshot(): Promise<string> {
    const view = JSON.parse((await plainRequest(`${adminUrl}/api/v1/services/web`)).body) as {
      stable: unknown;
      releases: { number: number; version: string; traffic: number; instances: { address: string; inRotation: boolean }[] }[];
      deployment: unknown;
      instancesWanted: number;
    };
    return JSON.stringify({
      stable: view.stable,
      releases: view.releases.map((r) => [r.number, r.version, r.traffic, r.instances.map((i) => [i.address, i.inRotation])]),
      deployment: view.deployment,
      instancesWanted: view.instancesWanted,
      releasesInStore: countRows('releases'),
      deploymentsInStore: countRows('deployments'),
      tableVersion: (await getJson<DaemonView>('/api/v1/daemon')).tableVersion,
    });
  }

  it('answers every random body with a 2xx or a JSON 4xx, never a 5xx, and changes nothing when it refuses', async (t) => {
    const json = fc.jsonValue({ maxDepth: 3 });
    const nearValid = fc.record(
      {
        version: fc.oneof(VALID_LABEL, json),
        strategy: fc.oneof(fc.constantFrom('rolling', 'blue-green', 'canary', 'ROLLING', ''), json),
        env: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }), json),
        targets: fc.oneof(fc.constant([backend.address]), fc.array(fc.constantFrom(backend.address, '127.0.0.1:0', 'x', ':80', '[::1]:1'), { maxLength: 3 }), json),
        to: fc.oneof(VALID_LABEL, json),
        instances: fc.oneof(fc.integer({ min: -2, max: 300 }), json),
        full: json,
      },
      { requiredKeys: [] },
    );
    // Bodies each route may well accept, so the accepted path is exercised too.
    const plausible = fc.oneof(
      fc.record({ version: VALID_LABEL, targets: fc.constant([backend.address]), strategy: fc.constantFrom('rolling', 'blue-green') }, { requiredKeys: ['version', 'targets'] }),
      fc.record({ to: VALID_LABEL }, { requiredKeys: [] }),
      fc.record({ instances: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ full: fc.boolean() }),
    );
    const body = fc.oneof(
      json.map((value) => JSON.stringify(value)),
      nearValid.map((value) => JSON.stringify(value)),
      plausible.map((value) => JSON.stringify(value)),
      fc.string({ maxLength: 30 }),
      fc.constant(''),
    );
    const route = fc.constantFrom<Route>('deployments', 'scale', 'rollback', 'promote');
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(route, body, async (to, text) => {
        const before = await snapshot();
        const res = await plainRequest(`${adminUrl}/api/v1/services/web/${to}`, { method: 'POST', body: text });
        assert.ok(res.status < 500, `POST ${to} ${text} → ${res.status} ${res.body}`);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const answer = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
        if (res.status >= 400) {
          refused++;
          assert.ok(res.status < 500);
          assert.equal(typeof answer.error?.code, 'string', res.body);
          assert.equal(typeof answer.error?.message, 'string', res.body);
          assert.ok(answer.error?.field === undefined || typeof answer.error.field === 'string');
          assert.equal(await snapshot(), before, `POST ${to} ${text} was refused (${res.status}) but changed the running state`);
        } else {
          accepted++;
          assert.ok(res.status >= 200 && res.status < 300);
          // Let an accepted deployment or rollback finish (abort one that waits at a pause), so the next
          // request meets a quiet service.
          const ended = await waitFor(async () => (await activeDeployment()) === null, { timeout: 5000, interval: 20 }).then(
            () => true,
            () => false,
          );
          if (!ended) {
            await plainRequest(`${adminUrl}/api/v1/services/web/abort`, { method: 'POST', body: '{}' });
            await waitFor(async () => (await activeDeployment()) === null, { timeout: 30_000, message: 'the aborted deployment to end' });
          }
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    t.diagnostic(`${refused} refused, ${accepted} accepted`);
    assert.ok(refused > RUNS / 2, `${refused} refused, ${accepted} accepted`);
    assert.equal((await plainRequest(`${adminUrl}/healthz`)).status, 200, 'the daemon still answers');
    assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
  });
});

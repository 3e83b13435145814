import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigProblem } from './errors.js';
import { ConfigError } from './errors.js';
import type { Env } from './interpolate.js';
import { loadConfig, parseConfig } from './load.js';

const EXAMPLE = fileURLToPath(new URL('./testdata/design-example.yaml', import.meta.url));
const TOKEN = 'a-token-of-at-least-16-chars';

/** The problems parseConfig reports for `text`, which must be invalid. */
function problemsIn(text: string, env: Env = {}): ConfigProblem[] {
  return configErrorFor(text, env).problems.map((p) => ({ ...p }));
}

function configErrorFor(text: string, env: Env = {}): ConfigError {
  try {
    parseConfig(text, 'switchyard.yaml', env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail('expected the config to be rejected');
}

describe('loadConfig', () => {
  it('loads the example config from DESIGN.md', () => {
    const config = loadConfig(EXAMPLE, { SWITCHYARD_TOKEN: TOKEN });
    const web = config.services.web;
    assert.ok(web);
    assert.deepEqual(config.proxy.listen.map((l) => l.address), ['127.0.0.1:8080']);
    assert.equal(config.admin.token, TOKEN);
    assert.equal(config.state, join(dirname(EXAMPLE), '.switchyard'));
    assert.deepEqual(web.match, { hosts: ['app.example.com'], pathPrefix: '/', stripPrefix: false });
    assert.deepEqual(web.run, {
      command: 'node server.js',
      cwd: join(dirname(EXAMPLE), 'releases/{version}'),
      env: { APP_VERSION: '{version}' },
      version: 'v1',
    });
    assert.equal(web.instances, 2);
    assert.deepEqual(web.health, {
      path: '/healthz', interval: 1000, timeout: 2000, healthyThreshold: 1, unhealthyThreshold: 3, startTimeout: 60_000, slowStart: 0,
    });
    assert.deepEqual(web.hashKey, { kind: 'header', name: 'x-user-id' });
    assert.deepEqual(web.sticky, { cookie: 'sy-web' });
    assert.deepEqual(web.timeouts, { connect: 2000, response: 60_000, idle: 60_000, keepAlive: 4000 });
    assert.deepEqual(web.stop, { signal: 'SIGTERM', timeout: 10_000 });
    assert.deepEqual(web.deploy.canary.steps, [
      { weight: 5, pause: 30_000, analysis: null },
      { weight: 25, pause: 60_000, analysis: null },
      { weight: 50, pause: 60_000, analysis: null },
    ]);
    assert.deepEqual(web.deploy.canary.route, [
      { source: 'header', name: 'x-canary', match: { kind: 'equals', value: '1' } },
      { source: 'cookie', name: 'beta', match: { kind: 'equals', value: '1' } },
    ]);
    assert.deepEqual(web.deploy.canary.sticky, { enabled: true, cookie: 'sy-release' });
    assert.equal(web.deploy.analysis.maxErrorRate, 0.01);
    assert.equal(web.deploy.analysis.maxP99Latency, 500);
    assert.equal(web.deploy.analysis.maxLatencyIncrease, 0.5);
    assert.deepEqual(web.deploy.hooks.preDeploy, { run: 'npm run migrate:expand', endsRollbackWindow: false });
    assert.equal(web.deploy.progressDeadline, 600_000);
  });

  it('says on which line the example needs SWITCHYARD_TOKEN when it is unset', () => {
    assert.throws(() => loadConfig(EXAMPLE, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'SY_ERR_CONFIG_INVALID');
      assert.equal(
        err.message,
        `${EXAMPLE}:6: admin.token: SWITCHYARD_TOKEN is not set in the environment; set it or give a default: \${SWITCHYARD_TOKEN:-value}`,
      );
      return true;
    });
  });

  it('resolves relative paths against the directory of the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
    try {
      const file = join(dir, 'switchyard.yaml');
      writeFileSync(
        file,
        [
          'proxy: { accessLog: { destination: logs/access.log } }',
          'admin: { tokenFile: secrets/token }',
          'state: ./state',
          'services:',
          '  web: { run: { command: node server.js, version: v1 } }',
          '  api: { run: { command: [node, api.js], cwd: /opt/api, version: v1 }, match: { pathPrefix: /api } }',
        ].join('\n'),
      );
      const config = loadConfig(file, {});
      assert.equal(config.proxy.accessLog.destination, join(dir, 'logs/access.log'));
      assert.equal(config.admin.tokenFile, join(dir, 'secrets/token'));
      assert.equal(config.state, join(dir, 'state'));
      assert.equal(config.services.web?.run?.cwd, dir, 'a run without cwd runs in the config directory');
      assert.equal(config.services.api?.run?.cwd, '/opt/api');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing file as unreadable', () => {
    assert.throws(() => loadConfig('/nonexistent/switchyard.yaml', {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'SY_ERR_CONFIG_UNREADABLE');
      assert.equal(err.message, '/nonexistent/switchyard.yaml: cannot read the config: no such file');
      return true;
    });
  });
});

describe('parseConfig', () => {
  it('fills in every default around a minimal service', () => {
    const config = parseConfig('services:\n  web:\n    targets: [127.0.0.1:3000]\n', '/srv/app/switchyard.yaml', {});
    assert.deepEqual(config.proxy.listen.map((l) => l.address), ['127.0.0.1:8080']);
    assert.deepEqual(config.proxy.accessLog, { enabled: true, destination: 'auto' });
    assert.equal(config.proxy.dropServerHeader, false);
    assert.deepEqual(config.proxy.limits, {
      headersTimeout: 30_000, requestTimeout: 300_000, keepAliveTimeout: 5000,
      maxHeaderSize: 16 * 1024, maxBodySize: 100 * 1024 * 1024, maxConnections: 10_000, maxUrlLength: 8 * 1024, sendTimeout: 60_000, maxWebSocketFrame: 16 * 1024 * 1024,
    });
    assert.deepEqual(config.admin, { listen: '127.0.0.1:8081' });
    assert.equal(config.state, '/srv/app/.switchyard');
    const web = config.services.web;
    assert.ok(web);
    assert.deepEqual(web.match, { pathPrefix: '/', stripPrefix: false });
    assert.equal(web.instances, 1);
    assert.deepEqual(web.health, {
      interval: 1000, timeout: 2000, healthyThreshold: 1, unhealthyThreshold: 3, startTimeout: 60_000, slowStart: 0,
    });
    assert.deepEqual(web.outlier, { consecutiveFailures: 5, baseEjectionTime: 30_000, maxEjectionTime: 300_000, maxEjectionPercent: 0.5 });
    assert.equal(web.balance, 'round-robin');
    assert.equal(web.hashKey, undefined);
    assert.deepEqual(web.timeouts, { connect: 2000, response: 60_000, idle: 60_000, keepAlive: 4000 });
    assert.equal(web.retries, 2);
    assert.deepEqual(web.retryBudget, { ratio: 0.2, minPerSecond: 5 });
    assert.deepEqual(web.drain, { timeout: 30_000 });
    assert.deepEqual(web.stop, { signal: 'SIGTERM', timeout: 10_000 });
    assert.deepEqual(web.deploy, {
      strategy: 'rolling',
      rolling: { maxSurge: 1, maxUnavailable: 0 },
      blueGreen: { autoPromote: true, previewHeader: 'x-switchyard-preview', scaleDownDelay: 300_000 },
      canary: {
        steps: [
          { weight: 5, pause: 30_000, analysis: null },
          { weight: 25, pause: 60_000, analysis: null },
          { weight: 50, pause: 60_000, analysis: null },
        ],
        route: [],
        sticky: { enabled: true, cookie: 'sy-release' },
        instances: 'proportional',
        finalize: 'none',
      },
      analysis: {
        interval: 10_000, minRequests: 50, latencyTolerance: 5, confidence: 0.98, failureLimit: 1, inconclusiveLimit: 6,
        onInconclusive: 'pause', errorStatuses: '5xx',
      },
      hooks: { timeout: 300_000 },
      progressDeadline: 600_000,
    });
  });

  it('names an unknown key with its line and suggests the key that was meant', () => {
    const text = 'services:\n  web:\n    targets: [127.0.0.1:3000]\n    health:\n      path: /healthz\n      intervall: 5s\n';
    assert.deepEqual(problemsIn(text), [
      { path: 'services.web.health.intervall', line: 6, message: 'unknown key; did you mean `interval`?' },
    ]);
  });

  it('prints a bad duration as FILE:LINE: PATH: MESSAGE', () => {
    const text = 'services:\n  web:\n    targets: [127.0.0.1:3000]\n    health:\n      interval: 1 sec\n';
    assert.equal(
      configErrorFor(text).toString(),
      'switchyard.yaml:5: services.web.health.interval: "1 sec" is not a duration; use e.g. 500ms, 10s, 5m',
    );
  });

  it('says a unit is required when a duration is a bare number', () => {
    const text = 'services:\n  web:\n    targets: [127.0.0.1:3000]\n    health: { interval: 5, timeout: 0 }\n';
    assert.deepEqual(problemsIn(text), [
      { path: 'services.web.health.interval', line: 4, message: '5 needs a unit; write e.g. 5s or 5ms' },
      { path: 'services.web.health.timeout', line: 4, message: 'must be more than 0' },
    ]);
  });

  it('reports every problem in the file at once, in line order', () => {
    const text = [
      'proxy:',
      '  listen: 8080',
      'services:',
      '  web:',
      '    targets: [127.0.0.1:3000]',
      '    balance: round-robbin',
      '    retries: 11',
      '    deploy: { strategy: canary, canary: { steps: [ { weight: 5, pause: forever } ] } }',
    ].join('\n');
    const error = configErrorFor(text);
    assert.equal(error.code, 'SY_ERR_CONFIG_INVALID');
    assert.deepEqual(error.message.split('\n'), [
      'switchyard.yaml:2: proxy.listen: 8080 needs a host; write 127.0.0.1:8080 (this machine only) or 0.0.0.0:8080 (all interfaces)',
      'switchyard.yaml:6: services.web.balance: must be one of round-robin, least-connections, random-two, hash; got "round-robbin"; did you mean `round-robin`?',
      'switchyard.yaml:7: services.web.retries: must be at most 10',
      'switchyard.yaml:8: services.web.deploy.canary.steps[0].pause: "forever" is not a duration; use e.g. 500ms, 10s, 5m, or "indefinite"',
    ]);
  });

  it('points a missing required key at its parent object', () => {
    const text = 'services:\n  web:\n    run:\n      command: node server.js\n';
    assert.deepEqual(problemsIn(text), [{ path: 'services.web.run.version', line: 3, message: 'is required' }]);
  });

  it('interpolates ${VAR} and ${VAR:-default} from the given environment', () => {
    const text = [
      'proxy: { listen: "${HOST:-127.0.0.1}:${PORT}" }',
      'services:',
      '  web:',
      '    run: { command: "node $${NOT_A_VAR}.js", version: "${VERSION}" }',
    ].join('\n');
    const config = parseConfig(text, 'switchyard.yaml', { PORT: '9000', VERSION: 'v7' });
    assert.deepEqual(config.proxy.listen.map((l) => l.address), ['127.0.0.1:9000']);
    assert.equal(config.services.web?.run?.command, 'node ${NOT_A_VAR}.js');
    assert.equal(config.services.web?.run?.version, 'v7');
  });

  it('names an unset variable and its line, and adds no second problem for that value', () => {
    const text = 'admin:\n  listen: 0.0.0.0:8081\n  token: ${ADMIN_TOKEN}\nservices:\n  web: { targets: [127.0.0.1:3000] }\n';
    assert.deepEqual(problemsIn(text), [
      { path: 'admin.token', line: 3, message: 'ADMIN_TOKEN is not set in the environment; set it or give a default: ${ADMIN_TOKEN:-value}' },
    ]);
  });

  it('reports YAML syntax errors with their lines', () => {
    const error = configErrorFor('services:\n  web:\n    targets: [127.0.0.1:3000\n  api: {}\n');
    assert.equal(error.code, 'SY_ERR_CONFIG_SYNTAX');
    assert.ok(error.problems.length > 0);
    assert.ok(error.problems.every((p) => typeof p.line === 'number' && p.line >= 3), JSON.stringify(error.problems));
  });

  it('reports duplicate keys as syntax errors', () => {
    const error = configErrorFor('services:\n  web: { targets: [127.0.0.1:3000] }\n  web: { targets: [127.0.0.1:3001] }\n');
    assert.equal(error.code, 'SY_ERR_CONFIG_SYNTAX');
    assert.equal(error.problems[0]?.line, 3);
  });

  it('says so when the file is empty', () => {
    assert.deepEqual(problemsIn('# nothing yet\n'), [{ path: '', line: 1, message: 'the config is empty; it needs at least services' }]);
  });

  it('lets services share settings through YAML merge keys', () => {
    const shared = [
      'services:',
      '  web: &base',
      '    targets: [127.0.0.1:3000]',
      '    health: { path: /healthz }',
      '  api:',
      '    <<: *base',
      '    targets: [127.0.0.1:4000]',
      '    match: { pathPrefix: /api }',
    ].join('\n');
    const config = parseConfig(shared, 'switchyard.yaml', {});
    assert.equal(config.services.api?.health.path, '/healthz');
    assert.deepEqual(config.services.api?.targets, ['127.0.0.1:4000']);
  });
});

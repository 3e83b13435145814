import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from './errors.js';
import { parseConfig } from './load.js';
import type { Config, ServiceConfig } from './schema.js';

const TARGETS = 'targets: [127.0.0.1:3000]';

function parse(text: string): Config {
  return parseConfig(text, 'switchyard.yaml', {});
}

/** Parses one service named web, written as YAML flow-map content. */
function service(fields: string): ServiceConfig {
  const web = parse(`services:\n  web: { ${fields} }\n`).services.web;
  assert.ok(web);
  return web;
}

/** The "path: message" lines parseConfig reports for `text`, which must be invalid. */
function problems(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  assert.fail('expected the config to be rejected');
}

const serviceProblems = (fields: string): string[] => problems(`services:\n  web: { ${fields} }\n`);

describe('services', () => {
  it('rejects a service with both run and targets', () => {
    assert.deepEqual(serviceProblems(`run: { command: node s.js, version: v1 }, ${TARGETS}`), [
      'services.web: a service needs either run (switchyard starts the instances) or targets (instances run elsewhere), not both',
    ]);
  });

  it('rejects a service with neither run nor targets', () => {
    assert.deepEqual(serviceProblems('instances: 2'), [
      'services.web: a service needs either run (switchyard starts the instances) or targets (instances run elsewhere)',
    ]);
  });

  it('requires at least one service', () => {
    assert.deepEqual(problems('services: {}'), ['services: define at least one service']);
    assert.deepEqual(problems('state: ./s'), ['services: is required']);
  });

  it('names a service key that is not a valid service name', () => {
    assert.deepEqual(problems(`services:\n  Web_1: { ${TARGETS} }\n`), [
      'services.Web_1: "Web_1" is not a valid service name: use lowercase letters, digits and -, at most 63 long',
    ]);
  });

  it('refuses two services that match the same host and path prefix', () => {
    assert.deepEqual(problems(`services:\n  web: { ${TARGETS} }\n  www: { ${TARGETS} }\n`), [
      'services.www.match: web already matches every host with pathPrefix /',
    ]);
  });

  it('refuses targets on port 0', () => {
    assert.deepEqual(serviceProblems('targets: [10.0.0.5:0]'), ['services.web.targets[0]: "10.0.0.5:0": port 0 cannot be connected to']);
  });

  it('turns environment numbers and booleans into text', () => {
    const run = service('run: { command: [node, s.js], version: v2, env: { WORKERS: 4, DEBUG: false } }').run;
    assert.deepEqual(run?.env, { WORKERS: '4', DEBUG: 'false' });
    assert.deepEqual(run?.command, ['node', 's.js']);
  });
});

describe('match.hosts', () => {
  it('accepts exact names and *.wildcards, lowercased', () => {
    assert.deepEqual(service(`${TARGETS}, match: { hosts: [App.Example.com, "*.Example.org"] }`).match.hosts, [
      'app.example.com',
      '*.example.org',
    ]);
  });

  it('rejects a wildcard that is not the whole first label', () => {
    assert.deepEqual(serviceProblems(`${TARGETS}, match: { hosts: ["app.*.com", "a*.example.com"] }`), [
      'services.web.match.hosts[0]: "app.*.com": a wildcard must be the whole first label, e.g. *.example.com',
      'services.web.match.hosts[1]: "a*.example.com": a wildcard must be the whole first label, e.g. *.example.com',
    ]);
  });

  it('rejects ports, bad names and an empty list', () => {
    assert.deepEqual(serviceProblems(`${TARGETS}, match: { hosts: ["app.example.com:443", "bad_name"] }`), [
      'services.web.match.hosts[0]: "app.example.com:443": hosts match without the port; write app.example.com',
      'services.web.match.hosts[1]: "bad_name" is not a host name; use e.g. app.example.com or *.example.com',
    ]);
    assert.deepEqual(serviceProblems(`${TARGETS}, match: { hosts: [] }`), [
      'services.web.match.hosts: list at least one host, or leave hosts out to match every host',
    ]);
  });

  it('requires pathPrefix to start with /', () => {
    assert.deepEqual(serviceProblems(`${TARGETS}, match: { pathPrefix: api }`), ['services.web.match.pathPrefix: "api" must start with /']);
  });
});

describe('listen addresses', () => {
  const svc = `services:\n  web: { ${TARGETS} }\n`;

  it('accepts one address or a list, with IPv4, host names and bracketed IPv6', () => {
    assert.deepEqual(parse(`proxy: { listen: [0.0.0.0:80, "[::]:80", localhost:0] }\n${svc}`).proxy.listen.map((l) => l.address), [
      '0.0.0.0:80',
      '[::]:80',
      'localhost:0',
    ]);
  });

  it('explains a port without a host, a bad port and an unbracketed IPv6 address', () => {
    assert.deepEqual(problems(`proxy: { listen: [8080, "127.0.0.1:99999", "::1:80"] }\n${svc}`), [
      'proxy.listen[0]: 8080 needs a host; write 127.0.0.1:8080 (this machine only) or 0.0.0.0:8080 (all interfaces)',
      'proxy.listen[1]: "127.0.0.1:99999": the port must be a number from 0 to 65535',
      'proxy.listen[2]: "::1:80": put an IPv6 address in brackets, e.g. [::1]:80',
    ]);
  });

  it('requires a token for an admin API reachable from other machines', () => {
    assert.deepEqual(problems(`admin: { listen: 0.0.0.0:8081 }\n${svc}`), [
      'admin.listen: 0.0.0.0:8081 is reachable from other machines, so set token or tokenFile: the admin API controls deployments',
    ]);
    assert.equal(parse(`admin: { listen: 0.0.0.0:8081, tokenFile: /run/secrets/sy }\n${svc}`).admin.tokenFile, '/run/secrets/sy');
    assert.equal(parse(`admin: { listen: "[::1]:8081" }\n${svc}`).admin.token, undefined);
  });

  it('rejects a short token, and token with tokenFile', () => {
    assert.deepEqual(problems(`admin: { token: short }\n${svc}`), [
      'admin.token: must be at least 16 characters: it guards the API that controls deployments',
    ]);
    assert.deepEqual(problems(`admin: { token: 0123456789abcdef, tokenFile: t }\n${svc}`), ['admin.tokenFile: set token or tokenFile, not both']);
  });

  it('refuses an admin address the proxy already listens on', () => {
    assert.deepEqual(problems(`proxy: { listen: 127.0.0.1:9000 }\nadmin: { listen: 127.0.0.1:9000 }\n${svc}`), [
      'admin.listen: 127.0.0.1:9000 is also a proxy listen address',
    ]);
  });

  it('refuses a headersTimeout longer than requestTimeout, which Node would reject', () => {
    assert.deepEqual(problems(`proxy: { limits: { headersTimeout: 60s, requestTimeout: 30s } }\n${svc}`), [
      'proxy.limits.headersTimeout: must not be longer than requestTimeout',
    ]);
    assert.equal(parse(`proxy: { limits: { headersTimeout: 60s, requestTimeout: 0 } }\n${svc}`).proxy.limits.requestTimeout, 0);
  });
});

describe('balancing', () => {
  it('lowercases a header hash key and hashes by client address when none is given', () => {
    assert.deepEqual(service(`${TARGETS}, balance: hash, hashKey: { header: X-User-Id }`).hashKey, { kind: 'header', name: 'x-user-id' });
    assert.deepEqual(service(`${TARGETS}, balance: hash`).hashKey, { kind: 'ip' });
    assert.deepEqual(service(`${TARGETS}, hashKey: { cookie: sid }`).hashKey, { kind: 'cookie', name: 'sid' });
  });

  it('requires exactly one hash key source', () => {
    assert.deepEqual(serviceProblems(`${TARGETS}, hashKey: { header: a, ip: true }`), [
      'services.web.hashKey: set exactly one of header, cookie or ip',
    ]);
  });

  it('reads percentages and checks that outlier ejection times are in order', () => {
    assert.equal(service(`${TARGETS}, outlier: { maxEjectionPercent: 10% }`).outlier.maxEjectionPercent, 0.1);
    assert.deepEqual(serviceProblems(`${TARGETS}, outlier: { baseEjectionTime: 5m, maxEjectionTime: 1m }`), [
      'services.web.outlier.maxEjectionTime: must not be shorter than baseEjectionTime',
    ]);
    assert.deepEqual(serviceProblems(`${TARGETS}, outlier: { maxEjectionPercent: 150% }`), [
      'services.web.outlier.maxEjectionPercent: "150%" is more than 100%',
    ]);
  });
});

describe('deploy', () => {
  it('refuses a rolling deploy that can neither surge nor go unavailable', () => {
    assert.deepEqual(serviceProblems(`${TARGETS}, deploy: { rolling: { maxSurge: 0, maxUnavailable: 0 } }`), [
      'services.web.deploy.rolling: maxSurge and maxUnavailable cannot both be 0: no instance could ever be replaced',
    ]);
  });

  it('reads canary steps, with indefinite pauses and absent fields as null', () => {
    const steps = service(`${TARGETS}, deploy: { canary: { steps: [ { weight: 10 }, { pause: indefinite }, { analysis: true, pause: 2m } ] } }`)
      .deploy.canary.steps;
    assert.deepEqual(steps, [
      { weight: 10, pause: null, analysis: null },
      { weight: null, pause: 'indefinite', analysis: null },
      { weight: null, pause: 120_000, analysis: true },
    ]);
  });

  it('rejects an empty canary step and a weight above 100', () => {
    assert.deepEqual(serviceProblems(`${TARGETS}, deploy: { canary: { steps: [ {}, { weight: 101 } ] } }`), [
      'services.web.deploy.canary.steps[0]: a step needs at least one of weight, pause or analysis',
      'services.web.deploy.canary.steps[1].weight: must be at most 100',
    ]);
  });

  it('normalizes canary route rules', () => {
    const route = service(
      `${TARGETS}, deploy: { canary: { route: [ { header: X-Canary, present: true }, { cookie: beta, oneOf: [a, b] }, { query: v, regex: "^2" } ] } }`,
    ).deploy.canary.route;
    assert.deepEqual(route, [
      { source: 'header', name: 'x-canary', match: { kind: 'present' } },
      { source: 'cookie', name: 'beta', match: { kind: 'oneOf', values: ['a', 'b'] } },
      { source: 'query', name: 'v', match: { kind: 'regex', pattern: '^2' } },
    ]);
  });

  it('rejects route rules with no or several matchers, a bad regex, or an unquoted number', () => {
    const rules = '[ { header: a }, { header: b, value: x, present: true }, { query: q, regex: "(" }, { header: c, value: 1 } ]';
    assert.deepEqual(serviceProblems(`${TARGETS}, deploy: { canary: { route: ${rules} } }`), [
      'services.web.deploy.canary.route[0]: a route rule needs exactly one of value, oneOf, regex or present',
      'services.web.deploy.canary.route[1]: a route rule needs exactly one of value, oneOf, regex or present',
      'services.web.deploy.canary.route[2].regex: "(" is not a valid regular expression (Unterminated group)',
      'services.web.deploy.canary.route[3].value: expected a string, got 1; put it in quotes: "1"',
    ]);
  });

  it('reads canary sticky as a switch or as settings', () => {
    assert.deepEqual(service(`${TARGETS}, deploy: { canary: { sticky: false } }`).deploy.canary.sticky, { enabled: false, cookie: 'sy-release' });
    assert.deepEqual(service(`${TARGETS}, deploy: { canary: { sticky: { cookie: rel, hashKey: { ip: true } } } }`).deploy.canary.sticky, {
      enabled: true,
      cookie: 'rel',
      hashKey: { kind: 'ip' },
    });
  });

  it('gives analysis checks their default timeouts and status lists their normal form', () => {
    const analysis = service(
      `${TARGETS}, deploy: { analysis: { errorStatuses: "5XX, 429", checks: [ { http: "http://127.0.0.1:9090/ok" }, { command: ./check.sh, timeout: 1m } ] } }`,
    ).deploy.analysis;
    assert.equal(analysis.errorStatuses, '5xx,429');
    assert.deepEqual(analysis.checks, [
      { kind: 'http', url: 'http://127.0.0.1:9090/ok', timeout: 5000 },
      { kind: 'command', command: './check.sh', timeout: 60_000 },
    ]);
  });

  it('rejects a check with both http and command, and a status list it cannot read', () => {
    assert.deepEqual(serviceProblems(`${TARGETS}, deploy: { analysis: { errorStatuses: "server errors", checks: [ { http: "http://x", command: y } ] } }`), [
      'services.web.deploy.analysis.errorStatuses: must list status classes or codes, e.g. 5xx or 5xx,429',
      'services.web.deploy.analysis.checks[0]: a check needs exactly one of http or command',
    ]);
  });

  it('suggests the strategy that was meant', () => {
    assert.deepEqual(serviceProblems(`${TARGETS}, deploy: { strategy: bluegreen }`), [
      'services.web.deploy.strategy: must be one of rolling, blue-green, canary; got "bluegreen"; did you mean `blue-green`?',
    ]);
  });
});

describe('deploy.hooks', () => {
  it('takes a command string or { run, endsRollbackWindow } for each hook', () => {
    const { hooks } = service(`${TARGETS}, deploy: { hooks: { preDeploy: npm run expand, postDeploy: { run: npm run contract, endsRollbackWindow: true }, onRollback: { run: ./notify.sh } } }`).deploy;
    assert.deepEqual(hooks.preDeploy, { run: 'npm run expand', endsRollbackWindow: false });
    assert.deepEqual(hooks.postDeploy, { run: 'npm run contract', endsRollbackWindow: true });
    assert.deepEqual(hooks.onRollback, { run: './notify.sh', endsRollbackWindow: false });
  });

  it('says what a hook may be, and refuses endsRollbackWindow on onRollback', () => {
    assert.deepEqual(serviceProblems(`${TARGETS}, deploy: { hooks: { postDeploy: 3 } }`), [
      'services.web.deploy.hooks.postDeploy: expected a command or { run: COMMAND, endsRollbackWindow: true }, got 3',
    ]);
    assert.deepEqual(serviceProblems(`${TARGETS}, deploy: { hooks: { postDeploy: { run: x, endsRolbackWindow: true } } }`), [
      'services.web.deploy.hooks.postDeploy.endsRolbackWindow: unknown key; did you mean `endsRollbackWindow`?',
    ]);
    assert.deepEqual(serviceProblems(`${TARGETS}, deploy: { hooks: { onRollback: { run: x, endsRollbackWindow: true } } }`), [
      'services.web.deploy.hooks.onRollback.endsRollbackWindow: unknown key; expected one of run',
    ]);
  });
});

describe('proxy.releaseHeader', () => {
  it('defaults to x-switchyard-release, lowercases a chosen name, and refuses a header the proxy manages', () => {
    assert.equal(parse(`services:\n  web: { ${TARGETS} }\n`).proxy.releaseHeader, 'x-switchyard-release');
    assert.equal(parse(`proxy: { releaseHeader: X-Routed-As }\nservices:\n  web: { ${TARGETS} }\n`).proxy.releaseHeader, 'x-routed-as');
    assert.deepEqual(problems(`proxy: { releaseHeader: Host }\nservices:\n  web: { ${TARGETS} }\n`), [
      'proxy.releaseHeader: host is a header the proxy or HTTP itself manages; choose another name, e.g. x-switchyard-release',
    ]);
  });
});

describe('cluster', () => {
  const RUN = 'services:\n  web: { run: { command: node s.js, version: v1 } }\n';
  const cluster = (address: string) => `cluster: { etcd: [http://10.0.0.1:2379], node: web-1, address: ${address} }\n`;

  it('refuses an admin API the other hosts cannot reach, since followers forward commands to the leader', () => {
    assert.deepEqual(problems(`admin: { listen: 127.0.0.1:8081 }\n${cluster('10.0.0.1')}${RUN}`), [
      "admin.listen: 127.0.0.1:8081 cannot be reached from the other hosts, which forward commands to the leader's admin API at its cluster address (10.0.0.1); listen on 10.0.0.1:PORT or 0.0.0.0:PORT, with a token",
    ]);
  });

  it('takes an admin API on the cluster address or every interface, and loopback when every host is on this machine', () => {
    for (const [listen, address] of [['10.0.0.1:8081', '10.0.0.1'], ['0.0.0.0:8081', '10.0.0.1'], ['127.0.0.1:8081', '127.0.0.1']] as const) {
      const token = listen.startsWith('127.') ? '' : ', token: a-long-enough-secret';
      assert.equal(parse(`admin: { listen: ${listen}${token} }\n${cluster(address)}${RUN}`).cluster?.address, address);
    }
  });
});

// Specification of the command line as scripts see it: exit codes (0 ok, 2 bad usage or config,
// 3 daemon unreachable), problems printed with file:line, and the JSON Schema. Runs the built CLI.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, runCli, tempDir, type TempDir } from '../helpers/daemon.js';

const VALID = `# a valid config
proxy:
  listen: 127.0.0.1:18080
services:
  web:
    targets: [127.0.0.1:3000, 127.0.0.1:3001]
    health: { path: /healthz, interval: 1s }
    balance: least-connections
`;

// Line numbers matter: the problems below are on lines 6, 7 and 8.
const BAD = `proxy:
  listen: 127.0.0.1:18080
services:
  web:
    targets: [127.0.0.1:3000]
    helth: { path: /healthz }
    balance: round-robbin
    timeouts: { connect: 2 sec }
`;

describe('switchyard CLI', () => {
  let tmp: TempDir;
  before(async () => {
    tmp = await tempDir();
    await tmp.write('good.yaml', VALID);
    await tmp.write('bad.yaml', BAD);
  });
  after(() => tmp.remove());

  const cli = (...args: string[]) => runCli(args, { cwd: tmp.dir });

  describe('validate', () => {
    it('exits 2 and prints every problem as file:line, with "did you mean" for an unknown key', async () => {
      const { code, stdout, stderr } = await cli('validate', '-c', 'bad.yaml');
      assert.equal(code, 2);
      assert.equal(stdout, '');
      const lines = stderr.trim().split('\n');
      assert.deepEqual(lines, [
        'bad.yaml:6: services.web.helth: unknown key; did you mean `health`?',
        'bad.yaml:7: services.web.balance: must be one of round-robin, least-connections, random-two, hash; got "round-robbin"; did you mean `round-robin`?',
        'bad.yaml:8: services.web.timeouts.connect: "2 sec" is not a duration; use e.g. 500ms, 10s, 5m',
      ]);
    });

    it('exits 0 for a valid file and names its services', async () => {
      const { code, stdout, stderr } = await cli('validate', '-c', 'good.yaml');
      assert.equal(code, 0, stderr);
      assert.match(stdout, /good\.yaml: valid \(1 service: web\)/);
    });

    it('prints one JSON document with --json, problems included', async () => {
      const good = await cli('validate', '-c', 'good.yaml', '--json');
      assert.equal(good.code, 0);
      assert.deepEqual(JSON.parse(good.stdout), { ok: true, services: ['web'] });
      const bad = await cli('validate', '-c', 'bad.yaml', '--json');
      assert.equal(bad.code, 2);
      const doc = JSON.parse(bad.stdout) as { ok: boolean; problems: { path: string; line: number }[] };
      assert.equal(doc.ok, false);
      assert.deepEqual(
        doc.problems.map((p) => [p.path, p.line]),
        [
          ['services.web.helth', 6],
          ['services.web.balance', 7],
          ['services.web.timeouts.connect', 8],
        ],
      );
    });

    it('warns, with file:line, when a command\'s program cannot be found, and still exits 0', async () => {
      await tmp.write(
        'typo.yaml',
        ['proxy:', '  listen: 127.0.0.1:18080', 'services:', '  web:', '    run:', '      command: nodee server.js', '      version: v1', '    deploy: { hooks: { preDeploy: ./migrate.sh } }', ''].join('\n'),
      );
      const { code, stdout, stderr } = await cli('validate', '-c', 'typo.yaml');
      assert.equal(code, 0, stderr);
      assert.deepEqual(stderr.trim().split('\n'), [
        'typo.yaml:6: warning: services.web.run.command: the program "nodee" was not found on PATH; an instance would exit with code 127',
        `typo.yaml:8: warning: services.web.deploy.hooks.preDeploy: the program "./migrate.sh" was not found in ${tmp.dir}; the preDeploy hook would exit with code 127`,
      ]);
      assert.match(stdout, /typo\.yaml: valid \(1 service: web\), 2 warnings/);
      const json = await cli('validate', '-c', 'typo.yaml', '--json');
      assert.equal(json.code, 0);
      assert.deepEqual((JSON.parse(json.stdout) as { warnings: { path: string }[] }).warnings.map((w) => w.path), ['services.web.run.command', 'services.web.deploy.hooks.preDeploy']);
    });

    it('exits 2 with a clear message when the file does not exist', async () => {
      const { code, stderr } = await cli('validate', '-c', 'missing.yaml');
      assert.equal(code, 2);
      assert.match(stderr, /missing\.yaml: cannot read the config: no such file/);
    });
  });

  it('prints the JSON Schema of the config file, with services', async () => {
    const { code, stdout } = await cli('schema');
    assert.equal(code, 0);
    const schema = JSON.parse(stdout) as { $schema: string; type: string; properties: Record<string, unknown>; required?: string[] };
    assert.match(schema.$schema, /json-schema\.org/);
    assert.equal(schema.type, 'object');
    assert.ok('services' in schema.properties);
    assert.ok('proxy' in schema.properties);
  });

  it('exits 3 from reload with a clear message when no daemon listens at the admin address', async () => {
    const port = await freePort();
    await tmp.write('unreachable.yaml', `${VALID}admin:\n  listen: 127.0.0.1:${port}\n`);
    const { code, stderr } = await cli('reload', '-c', 'unreachable.yaml');
    assert.equal(code, 3);
    assert.match(stderr, new RegExp(`cannot reach the switchyard daemon at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
    assert.match(stderr, /is `switchyard up` running\?/);

    const flagged = await cli('reload', '--admin', `http://127.0.0.1:${port}`);
    assert.equal(flagged.code, 3);
  });

  it('exits 2 from up when the config is invalid, printing the problems', async () => {
    const { code, stderr } = await cli('up', '-c', 'bad.yaml');
    assert.equal(code, 2);
    assert.match(stderr, /^bad\.yaml:6: services\.web\.helth: unknown key/m);
  });

  it('prints usage with --help and exits 0', async () => {
    const { code, stdout } = await cli('--help');
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: switchyard/);
    for (const command of ['up', 'validate', 'schema', 'reload']) assert.match(stdout, new RegExp(`^  ${command}\\b`, 'm'));
    const sub = await cli('validate', '--help');
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /-c, --config <file>/);
  });

  it('exits 2 for an unknown command or option', async () => {
    const command = await cli('deplooy');
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command 'deplooy'/);
    const option = await cli('validate', '--frobnicate');
    assert.equal(option.code, 2);
    assert.match(option.stderr, /unknown option '--frobnicate'/);
  });
});

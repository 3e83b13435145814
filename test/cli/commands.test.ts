// Specification of the deployment commands as an operator and a CI script see them: the built CLI
// (run `npx tsc -p tsconfig.json` first) against a real daemon that runs examples/node-app. The tests
// run in order and build on each other, like a day of deployments: v1 → v2 → v3 → failed v4 → back to v2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CLI, freePort, runCli, startDaemon, tempDir, type CliResult, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const APP = fileURLToPath(new URL('../../examples/node-app/server.mjs', import.meta.url));
const TOKEN = 'commands-test-token-0123456789';
const STEP_TIMEOUT = { timeout: 60_000 };

interface Service {
  stable: { version: string } | null;
  releases: { version: string; role: string; traffic: number; instances: { id: string; state: string; pid: number | null }[] }[];
  deployment: { id: number; state: string } | null;
  lastDeployment: { state: string; acknowledged: boolean } | null;
}

function config(proxyPort: number, adminPort: number, state: string): string {
  const service = (name: string, instances: number, deploy: string) => [
    `  ${name}:`,
    `    match: { pathPrefix: /${name} }`,
    '    run:',
    `      command: node ${APP}`,
    '      env: { APP_VERSION: "{version}" }',
    '      version: v1',
    `    instances: ${instances}`,
    '    health: { path: /healthz, interval: 200ms, startTimeout: 3s }',
    '    drain: { timeout: 2s }',
    ...(deploy ? [`    deploy: ${deploy}`] : []),
  ];
  return [
    'proxy:',
    `  listen: 127.0.0.1:${proxyPort}`,
    'admin:',
    `  listen: 127.0.0.1:${adminPort}`,
    `  token: ${TOKEN}`,
    `state: ${state}`,
    'services:',
    ...service('web', 2, ''),
    // Blue-green that waits for `promote` before the switch: a deployment in an indefinite pause.
    ...service('api', 1, '{ strategy: blue-green, blueGreen: { autoPromote: false, scaleDownDelay: 0s } }'),
    '',
  ].join('\n');
}

/** A CLI command left running in the background (a deploy that waits), with its output so far. */
function startCli(args: string[], cwd: string) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', SWITCHYARD_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const done = new Promise<CliResult>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void done.then(() => clearTimeout(timer));
  return { child, done, stdout: () => stdout };
}

describe('switchyard deployment commands, against a running daemon', { timeout: 300_000 }, () => {
  let tmp: TempDir;
  let daemon: DaemonProcess;
  let configFile: string;
  const pids = new Set<number>();

  const cli = (...args: string[]) => runCli(args, { cwd: tmp.dir, env: { SWITCHYARD_TOKEN: TOKEN }, timeout: 45_000 });
  const status = async (name: string): Promise<Service> => {
    const { code, stdout, stderr } = await cli('status', name, '--json', '-c', configFile);
    assert.equal(code, 0, stderr);
    const service = JSON.parse(stdout) as Service;
    for (const r of service.releases) for (const i of r.instances) if (i.pid !== null) pids.add(i.pid);
    return service;
  };
  const idle = (name: string) => waitFor(async () => (await status(name)).deployment === null, { timeout: 20_000, interval: 200, message: `${name} to have no deployment` });

  before(async () => {
    tmp = await tempDir('switchyard-commands-');
    const [proxyPort, adminPort] = [await freePort(), await freePort()];
    configFile = await tmp.write('switchyard.yaml', config(proxyPort, adminPort, `${tmp.dir}/state`));
    daemon = await startDaemon(configFile, { adminUrl: `http://127.0.0.1:${adminPort}`, cwd: tmp.dir });
    // The first release comes up right after the admin API does.
    await waitFor(async () => (await status('web')).stable?.version === 'v1' && (await status('api')).stable?.version === 'v1', { timeout: 20_000, interval: 200, message: 'v1 to be stable' });
  });

  after(async () => {
    if (daemon) {
      // SIGTERM lets the daemon drain and stop its app processes; SIGKILL only if it hangs.
      daemon.signal('SIGTERM');
      const stopped = await Promise.race([daemon.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000).unref())]);
      if (!stopped) await daemon.kill();
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone, as it should be.
        }
      }
    }
    await tmp?.remove();
  });

  it('exits 3 with a clear message when no daemon answers', async () => {
    const { code, stderr } = await cli('status', '--admin', `http://127.0.0.1:${await freePort()}`);
    assert.equal(code, 3);
    assert.match(stderr, /^switchyard: cannot reach the switchyard daemon at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('exits 3 when the daemon refuses the token (read from --token-file, never from the command line)', async () => {
    const tokenFile = join(tmp.dir, 'wrong-token');
    writeFileSync(tokenFile, 'not-the-right-token-at-all\n');
    const { code, stderr } = await runCli(['status', '-c', configFile, '--token-file', tokenFile], { cwd: tmp.dir });
    assert.equal(code, 3);
    assert.match(stderr, /refused the token/);
  });

  it('has no --token option, so a token never shows in ps', async () => {
    const { code, stderr } = await runCli(['status', '-c', configFile, '--token', 'x'.repeat(20)], { cwd: tmp.dir });
    assert.equal(code, 2);
    assert.match(stderr, /unknown option '--token'/);
  });

  it('deploys v2, prints the plan and one plain line per event without a TTY, and exits 0', STEP_TIMEOUT, async () => {
    const { code, stdout, stderr } = await cli('deploy', 'web', '--version', 'v2', '-c', configFile);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^deployment \d+: web v1 → v2 \(release \d+\) by rolling, \d+ steps:$/m);
    // No hooks are configured, so the plan has no hook steps; steps and instances name the versions.
    assert.doesNotMatch(stdout, /preDeploy|postDeploy/);
    assert.match(stdout, /^ {2}1\. start 1 instance of v2 and wait until it is healthy$/m);
    assert.match(stdout, /^ {2}\d\. serve from 1 instance of v2 and 1 instance of v1$/m);
    assert.match(stdout, /^\d\d:\d\d:\d\d {2}step\.started +step 1\/\d+: start 1 instance of v2/m);
    assert.match(stdout, /^\d\d:\d\d:\d\d {2}instance\.ready +web-v2-\d+: /m);
    assert.match(stdout, /^deployment \d+ succeeded in .*: v2 is stable$/m);
    assert.ok(!stdout.includes('\u001b'), 'no colours or cursor moves without a TTY');
  });

  it('status --json shows v2 stable with 2 instances and all the traffic', async () => {
    const web = await status('web');
    assert.equal(web.stable?.version, 'v2');
    const stable = web.releases.find((r) => r.role === 'stable');
    assert.equal(stable?.version, 'v2');
    assert.equal(stable?.traffic, 100);
    assert.equal(stable?.instances.length, 2);
    assert.ok(stable?.instances.every((i) => i.state === 'ready'));
  });

  it('status prints the releases and instances as tables', async () => {
    const { code, stdout } = await cli('status', 'web', '-c', configFile);
    assert.equal(code, 0);
    assert.match(stdout, /^web {2}stable v2 \(release \d+\)/);
    assert.match(stdout, /RELEASE +VERSION +ROLE +TRAFFIC/);
    assert.match(stdout, /v2 +stable +100%/);
    assert.equal(stdout.match(/^ {2}web-v2-\d+ +v2#\d+ +ready +healthy +yes/gm)?.length, 2);
    assert.match(stdout, /deployment {2}none in progress/);
  });

  it('deploy --json prints one JSON document, the succeeded deployment with its events', STEP_TIMEOUT, async () => {
    const { code, stdout, stderr } = await cli('deploy', 'web', '--version', 'v3', '--json', '-c', configFile);
    assert.equal(code, 0, stderr);
    const doc = JSON.parse(stdout) as { state: string; to: { version: string }; steps: { state: string }[]; events: { type: string }[] };
    assert.equal(doc.state, 'succeeded');
    assert.equal(doc.to.version, 'v3');
    assert.ok(doc.steps.every((s) => s.state === 'done'));
    assert.ok(doc.events.some((e) => e.type === 'deployment.succeeded'));
  });

  it('exits 1 and says why when the new release never becomes healthy; v3 stays stable', STEP_TIMEOUT, async () => {
    const { code, stdout, stderr } = await cli('deploy', 'web', '--version', 'v4', '--env', 'HEALTHY=0', '-c', configFile);
    assert.equal(code, 1, stdout);
    assert.match(stderr, /^switchyard: deployment \d+ rolled-back in .*: failed: web-v4-\d+: not healthy within 3000 ms.*; v3 serves all traffic$/m);
    assert.match(stdout, /deployment\.rolled-back/);
    const web = await status('web');
    assert.equal(web.stable?.version, 'v3');
    assert.equal(web.releases.find((r) => r.role === 'stable')?.instances.length, 2);
  });

  it('exits 2 naming the field when the version label is not valid', async () => {
    const { code, stdout, stderr } = await cli('deploy', 'web', '--version', 'not a label!', '-c', configFile);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /^switchyard: version must be a label like v2/m);
    const strategy = await cli('deploy', 'web', '--version', 'v9', '--strategy', 'yolo', '-c', configFile);
    assert.equal(strategy.code, 2);
    assert.match(strategy.stderr, /^switchyard: strategy must be one of rolling, blue-green, canary$/m);
    const scale = await cli('scale', 'web', '0', '-c', configFile);
    assert.equal(scale.code, 2);
    assert.match(scale.stderr, /^switchyard: instances must be a whole number from 1 to 256$/m);
  });

  it('exits 2 on bad usage: a missing --version, a malformed --env', async () => {
    const missing = await cli('deploy', 'web', '-c', configFile);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--version/);
    const env = await cli('deploy', 'web', '--version', 'v9', '--env', 'NOEQUALS', '-c', configFile);
    assert.equal(env.code, 2);
    assert.match(env.stderr, /expected KEY=VALUE/);
  });

  it('exits 2 for an unknown service, suggesting the one meant', async () => {
    const { code, stderr } = await cli('deploy', 'nope', '--version', 'v2', '-c', configFile);
    assert.equal(code, 2);
    assert.match(stderr, /^switchyard: no service named nope; the services are web, api$/m);
    const typo = await cli('status', 'wbe', '-c', configFile);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^switchyard: no service named wbe; did you mean web\?$/m);
  });

  it('promote says which daemon it used, and exits 2 with a clear message when nothing is in progress', async () => {
    const { code, stderr } = await cli('promote', 'web', '-c', configFile);
    assert.equal(code, 2);
    assert.deepEqual(stderr.trim().split('\n'), [
      `switchyard: using the daemon at ${daemon.adminUrl} (from admin.listen in ${configFile})`,
      'switchyard: web has no deployment in progress',
    ]);
  });

  it('history lists the deployments, newest first, with their outcome', async () => {
    const { code, stdout } = await cli('history', 'web', '-c', configFile);
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID +KIND +STRATEGY +FROM → TO +STATE +CREATED +DURATION +REASON$/);
    assert.match(lines[1]!, /^\d+ +deploy +rolling +v3 → v4 +rolled-back .* failed: /);
    assert.match(lines[2]!, /^\d+ +deploy +rolling +v2 → v3 +succeeded .* v3 is stable$/);
    assert.match(lines[3]!, /^\d+ +deploy +rolling +v1 → v2 +succeeded /);
  });

  it('history --json --events carries each deployment with its events', async () => {
    const { code, stdout } = await cli('history', 'web', '--json', '--events', '--limit', '2', '-c', configFile);
    assert.equal(code, 0);
    const { deployments } = JSON.parse(stdout) as { deployments: { state: string; events: { type: string }[] }[] };
    assert.deepEqual(deployments.map((d) => d.state), ['rolled-back', 'succeeded']);
    assert.ok(deployments[0]!.events.some((e) => e.type === 'deployment.rolled-back'));
  });

  it('status flags the rolled-back deployment until acknowledge, which says so and clears the flag', async () => {
    const before = await cli('status', 'web', '-c', configFile);
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /^ {2}last {8}\d+ \(deploy v3 → v4 by rolling\) rolled-back at .*: failed: web-v4-\d+: not healthy/m);
    assert.match(before.stdout, /^ +flagged until acknowledged: `switchyard acknowledge web`$/m);
    const ack = await cli('acknowledge', 'web', '-c', configFile);
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stdout, /^web: deployment \d+ \(rolled-back\) acknowledged$/m);
    const after = await cli('status', 'web', '-c', configFile);
    assert.match(after.stdout, /^ {2}last {8}\d+ .* rolled-back .*\(acknowledged\)$/m);
    assert.doesNotMatch(after.stdout, /flagged until acknowledged/);
    assert.equal((await status('web')).lastDeployment?.acknowledged, true);
    const api = await cli('acknowledge', 'api', '-c', configFile);
    assert.equal(api.code, 2);
    assert.match(api.stderr, /^switchyard: api has no failed or rolled-back deployment to acknowledge$/m);
  });

  it("logs shows the app's output, line by line with its instance", async () => {
    const { code, stdout } = await cli('logs', 'web', '-c', configFile);
    assert.equal(code, 0);
    assert.match(stdout, /^web-v3-\d+ \| app v3 listening on 127\.0\.0\.1:\d+$/m);
  });

  it('rollback goes back to the release before the stable one, and exits 0', STEP_TIMEOUT, async () => {
    const { code, stdout, stderr } = await cli('rollback', 'web', '-c', configFile);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^rollback \d+: web v3 → v2 \(release \d+\) by rolling/m);
    assert.match(stdout, /^rollback \d+ succeeded in .*: v2 is stable$/m);
    const web = await status('web');
    assert.equal(web.stable?.version, 'v2');
    assert.equal(web.releases.find((r) => r.role === 'stable')?.instances.length, 2);
  });

  it('follows a deployment that waits for promote, says so, and finishes once promoted', STEP_TIMEOUT, async () => {
    const deploy = startCli(['deploy', 'api', '--version', 'v2', '-c', configFile], tmp.dir);
    await waitFor(() => deploy.stdout().includes('run `switchyard promote api` to go on'), { timeout: 20_000, message: 'the promote hint' });
    const text = await cli('status', 'api', '-c', configFile);
    assert.match(text.stdout, /deployment {2}\d+ \(deploy v1 → v2 by blue-green\) paused, step \d+\/\d+: wait for `switchyard promote`/);
    assert.match(text.stdout, /preview {5}requests with `x-switchyard-preview: 1` reach the new release/);
    const promoted = await cli('promote', 'api', '-c', configFile);
    assert.equal(promoted.code, 0, promoted.stderr);
    const { code, stdout } = await deploy.done;
    assert.equal(code, 0);
    assert.match(stdout, /deployment\.promoted +promoted by user/);
    assert.match(stdout, /^deployment \d+ succeeded in .*: v2 is stable$/m);
  });

  it('Ctrl-C stops following but not the deployment; abort then rolls it back', STEP_TIMEOUT, async () => {
    const deploy = startCli(['deploy', 'api', '--version', 'v3', '-c', configFile], tmp.dir);
    await waitFor(() => deploy.stdout().includes('switchyard promote api'), { timeout: 20_000, message: 'the promote hint' });
    deploy.child.kill('SIGINT');
    const { code, stderr } = await deploy.done;
    assert.equal(code, 130);
    assert.match(stderr, /^switchyard: stopped following deployment \d+; it goes on in the daemon/m);
    assert.equal((await status('api')).deployment?.state, 'paused');
    const aborted = await cli('abort', 'api', '-c', configFile);
    assert.equal(aborted.code, 0, aborted.stderr);
    assert.match(aborted.stdout, /^api: aborting deployment \d+: all traffic goes back to v2/);
    await idle('api');
    const api = await status('api');
    assert.equal(api.stable?.version, 'v2');
    assert.deepEqual(api.releases.map((r) => [r.version, r.traffic]), [['v2', 100]]);
  });

  it('deploy --no-wait returns once the deployment started', STEP_TIMEOUT, async () => {
    const { code, stdout } = await cli('deploy', 'web', '--version', 'v5', '--no-wait', '-c', configFile);
    assert.equal(code, 0);
    assert.match(stdout, /^deployment \d+: web v2 → v5 \(release \d+\) by rolling: started$/m);
    await idle('web');
    assert.equal((await status('web')).stable?.version, 'v5');
  });

  it('scale changes how many instances of the stable release run', STEP_TIMEOUT, async () => {
    const { code, stdout, stderr } = await cli('scale', 'web', '1', '-c', configFile);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), 'web: scaled from 2 to 1 instances');
    const web = await status('web');
    assert.equal(web.releases.find((r) => r.role === 'stable')?.instances.length, 1);
  });

  it('status counts a scaled service as wanting the scaled number of instances', async () => {
    const { stdout } = await cli('status', 'web', '--json', '-c', configFile);
    assert.equal((JSON.parse(stdout) as { instancesWanted: number }).instancesWanted, 1);
  });
});

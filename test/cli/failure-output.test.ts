// Specification of "why did it fail?": an instance whose command is mistyped (`nodee server.js`) exits
// 127, and what it printed (`nodee: not found`) shows in `up`'s log, in the failure event, in the deploy
// view, in the API's deployment, and in `switchyard logs` even after the daemon has stopped.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { freePort, runCli, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const NOT_FOUND = /nodee: (command )?not found/;

describe('an instance that fails to start, and why', { timeout: 120_000 }, () => {
  let tmp: TempDir;
  let daemon: DaemonProcess;
  let configFile: string;
  let adminUrl: string;
  const cli = (...args: string[]) => runCli([...args, '-c', configFile], { cwd: tmp.dir, timeout: 60_000 });

  before(async () => {
    tmp = await tempDir('switchyard-failure-');
    const adminPort = await freePort();
    adminUrl = `http://127.0.0.1:${adminPort}`;
    configFile = await tmp.write(
      'switchyard.yaml',
      [
        `proxy: { listen: 127.0.0.1:${await freePort()} }`,
        `admin: { listen: 127.0.0.1:${adminPort} }`,
        `state: ${join(tmp.dir, 'state')}`,
        'services:',
        '  web:',
        '    run: { command: nodee server.js, version: v1 }',
        '    instances: 1',
        '    health: { interval: 100ms, startTimeout: 20s }',
        '',
      ].join('\n'),
    );
    daemon = await startDaemon(configFile, { adminUrl, cwd: tmp.dir, timeout: 60_000 });
  });
  after(async () => {
    await daemon?.kill();
    await tmp?.remove();
  });

  it("puts the instance's last output into up's log and the failure event of the first release", async () => {
    await daemon.waitForLog('switchyard is up', 60_000);
    const log = daemon.stderr();
    assert.match(log, /web-v1-1: exited with code 127 \(restart 1\); last output: .*nodee: (command )?not found/);
    // A crash is a warning and the rolled-back first release an error, not info.
    assert.match(log, /^\{"level":40,.*"type":"instance\.crashed","output":\[".*nodee: (command )?not found"\],"msg":"web-v1-1: exited/m);
    assert.match(log, /^\{"level":50,.*"type":"deployment\.rolled-back"/m);
    const res = await request(`${adminUrl}/api/v1/services/web/deployments`);
    const { deployments } = (await res.body.json()) as { deployments: { state: string; reason: string; failureOutput: string[] }[] };
    assert.equal(deployments[0]!.state, 'rolled-back');
    assert.match(deployments[0]!.reason, /crash loop: .*; last output: .*nodee: (command )?not found/);
    assert.ok(deployments[0]!.failureOutput.some((line) => NOT_FOUND.test(line)), deployments[0]!.failureOutput.join('\n'));
  });

  it('shows the output in the deploy view and in the reason it exits 1 with', async () => {
    const { code, stdout, stderr } = await cli('deploy', 'web', '--version', 'v2');
    assert.equal(code, 1, stdout + stderr);
    assert.match(stdout, /^ {2}its last output:$/m);
    assert.match(stdout, /^ {4}\| .*nodee: (command )?not found$/m);
    assert.match(stderr, /^switchyard: deployment \d+ rolled-back in .*: failed: crash loop: web-v2-1 crashed 3 times.*; last output: .*nodee: (command )?not found/m);
  });

  it('reads the log files from the state folder when the daemon is not running', async () => {
    let stopped = false;
    void daemon.exited.then(() => (stopped = true));
    daemon.signal('SIGTERM');
    await waitFor(() => stopped, { timeout: 30_000, message: 'the daemon to stop' });
    const { code, stdout, stderr } = await cli('logs', 'web');
    assert.equal(code, 0, stderr);
    assert.match(stderr, /no daemon answers at http:\/\/127\.0\.0\.1:\d+; reading the log files in /);
    assert.match(stdout, /^web-v2-1 \| .*nodee: (command )?not found$/m);
    const typo = await cli('logs', 'wbe');
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no service named wbe; did you mean web\?/);
  });
});

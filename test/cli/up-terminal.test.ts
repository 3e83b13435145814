// Specification of `up` in an operator's terminal (a real pseudo-terminal, made by util-linux `script`):
// short human log lines instead of pino JSON, and no access log lines in the terminal (they go to
// access.log in the state folder). In a pipe, JSON stays the default; --log-format chooses.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startBackend, type Backend } from '../helpers/backend.js';
import { CLI, freePort, startDaemon, staticConfig, tempDir, type TempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

describe('switchyard up, as an operator sees it', { timeout: 90_000 }, () => {
  let tmp: TempDir;
  let backend: Backend;
  let configFile: string;
  let proxyPort: number;
  let adminPort: number;
  before(async () => {
    tmp = await tempDir('switchyard-terminal-');
    backend = await startBackend('a');
    [proxyPort, adminPort] = [await freePort(), await freePort()];
    configFile = await tmp.write('switchyard.yaml', staticConfig({ proxyPort, adminPort, targets: [backend.address], state: join(tmp.dir, 'state') }));
  });
  after(async () => {
    await backend.close();
    await tmp.remove();
  });

  it('prints human lines on a terminal and keeps the access log out of it', async () => {
    const pidFile = join(tmp.dir, 'daemon.pid');
    // `exec` makes the shell's pid the daemon's, so the test can stop it by pid.
    const inner = `echo $$ > ${pidFile}; exec ${process.execPath} ${CLI} up -c ${configFile}`;
    const script: ChildProcess = spawn('script', ['-q', '-f', '-e', '-c', inner, '/dev/null'], {
      cwd: tmp.dir,
      env: { ...process.env, TERM: 'xterm', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    script.stdout!.setEncoding('utf8').on('data', (text: string) => (screen += text));
    const exited = new Promise<void>((resolve) => script.once('exit', () => resolve()));
    let daemonPid: number | undefined;
    try {
      await waitFor(() => screen.includes('switchyard is up'), { timeout: 30_000, message: `"switchyard is up" on the terminal:\n${screen}` });
      daemonPid = Number(readFileSync(pidFile, 'utf8').trim());
      const res = await request(`http://127.0.0.1:${proxyPort}/seen-only-in-the-access-log`, { reset: true });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
      const accessLog = join(tmp.dir, 'state', 'access.log');
      await waitFor(() => existsSync(accessLog) && readFileSync(accessLog, 'utf8').includes('/seen-only-in-the-access-log'), { message: 'the request in access.log' });

      assert.match(screen, /^\d\d:\d\d:\d\d INFO {2}switchyard is up {2}proxy=127\.0\.0\.1:\d+ admin=127\.0\.0\.1:\d+ services=web accessLog=\S*access\.log workers=1 generation=1\r?$/m);
      assert.doesNotMatch(screen, /\{"level"/, 'no JSON lines on the terminal');
      assert.doesNotMatch(screen, /seen-only-in-the-access-log/, 'no access log lines on the terminal');
    } finally {
      if (daemonPid !== undefined) process.kill(daemonPid, 'SIGTERM');
      else if (script.pid !== undefined) process.kill(script.pid, 'SIGKILL');
      await exited;
    }
  });

  it('keeps JSON lines in a pipe, and prints human lines there with --log-format human', async () => {
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    const json = await startDaemon(configFile, { adminUrl, cwd: tmp.dir });
    try {
      await json.waitForLog('switchyard is up');
      assert.match(json.stderr(), /^\{"level":30,"time":\d+,.*"msg":"switchyard is up"\}$/m);
    } finally {
      json.signal('SIGTERM');
      await json.exited;
    }
    const child = spawn(process.execPath, [CLI, 'up', '-c', configFile, '--log-format', 'human'], { cwd: tmp.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitFor(() => stderr.includes('switchyard is up'), { timeout: 30_000, message: 'the daemon to be up' });
      assert.match(stderr, /^\d\d:\d\d:\d\d INFO {2}switchyard is up/m);
      assert.doesNotMatch(stderr, /\{"level"/);
    } finally {
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }
  });
});

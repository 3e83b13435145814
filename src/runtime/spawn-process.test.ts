// Specification of starting an instance process: shell or no shell, its own process group, output into
// its log file, a clean environment, and start failures a person can act on.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killAllTracked, processGroupOf, removeScratchDirs, scratchDir, track } from '../../test/fixtures/runtime/processes.js';
import { INSTANCE_ID_ENV } from './leftovers.js';
import { SpawnError, startProcess, type InstanceProcessOptions } from './spawn-process.js';

after(() => {
  killAllTracked();
  removeScratchDirs();
});

async function start(opts: InstanceProcessOptions): Promise<ChildProcess> {
  const child = await startProcess(opts);
  track(child.pid);
  return child;
}

async function runToExit(opts: InstanceProcessOptions): Promise<string> {
  const child = await start(opts);
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  return readFileSync(opts.logFile, 'utf8');
}

describe('startProcess', () => {
  it('runs a string command through /bin/sh, expanding $PORT, and writes its output to a new 0600 log file', async () => {
    const dir = scratchDir();
    const logFile = join(dir, 'logs', 'web', '1-1.log');
    const log = await runToExit({ command: 'echo "listening on $PORT"; echo oops >&2', cwd: dir, env: { PORT: '3001' }, logFile });
    assert.equal(log, 'listening on 3001\noops\n');
    assert.equal(statSync(logFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'logs', 'web')).mode & 0o777, 0o700);
  });

  it('runs an array command directly, without a shell, so "$HOME" reaches the program literally', async () => {
    const dir = scratchDir();
    const logFile = join(dir, 'app.log');
    const log = await runToExit({
      command: [process.execPath, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', '$HOME', 'a b'],
      cwd: dir,
      env: {},
      logFile,
    });
    assert.equal(log, '["$HOME","a b"]\n');
  });

  it('appends to an existing log instead of overwriting it', async () => {
    const dir = scratchDir();
    const logFile = join(dir, 'app.log');
    writeFileSync(logFile, 'from the last run\n');
    assert.equal(await runToExit({ command: 'echo again', cwd: dir, env: {}, logFile }), 'from the last run\nagain\n');
  });

  it('makes the process the leader of its own process group', async () => {
    const dir = scratchDir();
    const child = await start({ command: ['sleep', '30'], cwd: dir, env: {}, logFile: join(dir, 'app.log') });
    const pid = track(child.pid);
    assert.equal(processGroupOf(pid), pid);
    assert.notEqual(processGroupOf(pid), processGroupOf(process.pid));
  });

  it('passes the given env over the daemon\'s own, without any SWITCHYARD_TOKEN* variable, plus the instance id', async () => {
    const saved = { token: process.env.SWITCHYARD_TOKEN, file: process.env.SWITCHYARD_TOKEN_FILE };
    process.env.SWITCHYARD_TOKEN = 'admin-secret';
    process.env.SWITCHYARD_TOKEN_FILE = '/etc/secret';
    try {
      const dir = scratchDir();
      const logFile = join(dir, 'app.log');
      const log = await runToExit({ command: 'env', cwd: dir, env: { APP_VERSION: 'v2', PATH: process.env.PATH ?? '' }, logFile, instanceId: 'web-3-1' });
      const vars = log.split('\n');
      assert.ok(vars.includes('APP_VERSION=v2'));
      assert.ok(vars.includes(`${INSTANCE_ID_ENV}=web-3-1`));
      assert.ok(vars.includes(`HOME=${process.env.HOME ?? ''}`), 'inherits the daemon environment');
      assert.ok(!log.includes('SWITCHYARD_TOKEN'), log);
      assert.ok(!log.includes('admin-secret'));
    } finally {
      restoreEnv('SWITCHYARD_TOKEN', saved.token);
      restoreEnv('SWITCHYARD_TOKEN_FILE', saved.file);
    }
  });

  it('rejects with a SpawnError naming the command and the cwd when the cwd does not exist', async () => {
    const dir = scratchDir();
    const cwd = join(dir, 'releases', 'v9');
    const failure = await startProcess({ command: 'node server.js', cwd, env: {}, logFile: join(dir, 'app.log') }).then(
      () => assert.fail('started in a missing directory'),
      (err: unknown) => err,
    );
    assert.ok(failure instanceof SpawnError);
    assert.equal(failure.code, 'SY_ERR_SPAWN_FAILED');
    assert.equal(failure.message, `cannot start "node server.js" in ${cwd}: the directory does not exist`);
  });

  it('rejects naming the program when an array command does not exist', async () => {
    const dir = scratchDir();
    await assert.rejects(
      startProcess({ command: ['no-such-program-here', '--port', '1'], cwd: dir, env: {}, logFile: join(dir, 'app.log') }),
      { name: 'SpawnError', message: `cannot start "no-such-program-here --port 1" in ${dir}: program not found: no-such-program-here` },
    );
  });

  it('rejects when the log file cannot be created', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'file'), '');
    await assert.rejects(startProcess({ command: 'true', cwd: dir, env: {}, logFile: join(dir, 'file', 'app.log') }), /cannot open log file/);
  });
});

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

// Specification of deploy hooks: run to completion with their output kept, failures as results, a timeout
// that kills the hook's whole process group, and a clean environment.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killAllTracked, pidFromFile, removeScratchDirs, scratchDir } from '../../test/fixtures/runtime/processes.js';
import { runHook, type HookOptions } from './hooks.js';
import { isAlive } from './stop-process.js';

after(() => {
  killAllTracked();
  removeScratchDirs();
});

function hook(command: string, more: Partial<HookOptions> = {}): HookOptions {
  return { name: 'preDeploy', command, cwd: scratchDir(), env: {}, timeoutMs: 10_000, ...more };
}

describe('runHook', () => {
  it('succeeds with stdout and stderr interleaved in the order they were written', async () => {
    const result = await runHook(hook('echo one; echo two >&2; echo three'));
    assert.deepEqual({ ...result, durationMs: 0 }, { ok: true, exitCode: 0, signal: null, timedOut: false, output: 'one\ntwo\nthree\n', durationMs: 0 });
  });

  it('reports a failing command with its exit code and output instead of throwing', async () => {
    const result = await runHook(hook('echo "migration 42 failed" >&2; exit 3'));
    assert.equal(result.ok, false);
    assert.equal(result.exitCode, 3);
    assert.equal(result.timedOut, false);
    assert.equal(result.output, 'migration 42 failed\n');
  });

  it("reports the shell's own errors in the output", async () => {
    const result = await runHook(hook('no-such-command-xyz'));
    assert.equal(result.exitCode, 127);
    assert.match(result.output, /no-such-command-xyz: not found/);
  });

  it('kills the hook and its whole process group when it overruns the timeout', async () => {
    const cwd = scratchDir();
    const result = await runHook(
      hook('(trap "" TERM; while :; do sleep 0.1; done) & echo $! > grandchild.pid; echo started; sleep 30', { cwd, timeoutMs: 500 }),
    );
    const grandchild = await pidFromFile(join(cwd, 'grandchild.pid'));
    assert.equal(result.ok, false);
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, 'SIGTERM');
    assert.ok(result.durationMs >= 500 && result.durationMs < 5_000, `took ${String(result.durationMs)} ms`);
    assert.match(result.output, /^started\n.*timed out after 500 ms/s);
    assert.equal(isAlive(grandchild), false, 'the background job that ignored SIGTERM is gone too');
  });

  it('escalates to SIGKILL 2 s after SIGTERM when the hook ignores SIGTERM', async () => {
    // The timeout leaves the shell ample time to set its trap first.
    const result = await runHook(hook('trap "" TERM; while :; do sleep 0.1; done', { timeoutMs: 500 }));
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, 'SIGKILL');
    assert.ok(result.durationMs >= 2_500, `took ${String(result.durationMs)} ms`);
  });

  it('kills background processes the hook leaves behind when it exits', async () => {
    const cwd = scratchDir();
    const result = await runHook(hook('sleep 30 & echo $! > leftover.pid', { cwd }));
    const leftover = await pidFromFile(join(cwd, 'leftover.pid'));
    assert.equal(result.ok, true);
    assert.ok(result.durationMs < 5_000, `took ${String(result.durationMs)} ms`);
    assert.equal(isAlive(leftover), false);
  });

  it('passes the given env over the daemon\'s own, but never SWITCHYARD_TOKEN', async () => {
    const saved = process.env.SWITCHYARD_TOKEN;
    process.env.SWITCHYARD_TOKEN = 'admin-secret';
    try {
      const result = await runHook(hook('echo "version=$APP_VERSION"; env', { env: { APP_VERSION: 'v7' } }));
      assert.equal(result.ok, true);
      assert.match(result.output, /^version=v7\n/);
      assert.ok(result.output.includes(`\nHOME=${process.env.HOME ?? ''}\n`), 'inherits the daemon environment');
      assert.ok(!result.output.includes('SWITCHYARD_TOKEN'));
      assert.ok(!result.output.includes('admin-secret'));
    } finally {
      if (saved === undefined) delete process.env.SWITCHYARD_TOKEN;
      else process.env.SWITCHYARD_TOKEN = saved;
    }
  });

  it('keeps only the last 64 KB of a long output and says how many bytes were cut', async () => {
    // 100 000 a's, a newline, then "END\n": 100 005 bytes, of which 65 536 are kept.
    const result = await runHook(hook("head -c 100000 /dev/zero | tr '\\0' a; echo; echo END"));
    assert.equal(result.ok, true);
    assert.ok(result.output.startsWith('[… 34469 bytes cut]\na'), result.output.slice(0, 40));
    assert.ok(result.output.endsWith('a\nEND\n'));
    assert.equal(Buffer.byteLength(result.output.slice(result.output.indexOf('\n') + 1)), 65_536);
  });

  it('reports a missing cwd as a failed hook naming the directory', async () => {
    const cwd = join(scratchDir(), 'gone');
    const result = await runHook(hook('true', { cwd }));
    assert.equal(result.ok, false);
    assert.equal(result.exitCode, null);
    assert.equal(result.output, `hook preDeploy: cannot start "true" in ${cwd}: the directory does not exist`);
  });
});

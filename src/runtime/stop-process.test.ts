// Specification of stopping an instance's process group (invariant 2): the stop signal first, SIGKILL only
// after the stop timeout, and nothing of the group left running afterwards.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileContaining, killAllTracked, pidFromFile, removeScratchDirs, scratchDir, track } from '../../test/fixtures/runtime/processes.js';
import { startProcess } from './spawn-process.js';
import { isAlive, stopProcessGroup } from './stop-process.js';

after(() => {
  killAllTracked();
  removeScratchDirs();
});

interface Started {
  child: ChildProcess;
  pid: number;
  exited: Promise<unknown>;
  dir: string;
  logFile: string;
}

async function start(command: string | string[]): Promise<Started> {
  const dir = scratchDir();
  const logFile = join(dir, 'app.log');
  const child = await startProcess({ command, cwd: dir, env: {}, logFile });
  const exited = once(child, 'exit'); // created at once, so it cannot miss the exit
  return { child, pid: track(child.pid), exited, dir, logFile };
}

// Loops in small sleeps so the shell gets to act on signals between them.
const IGNORE_TERM = 'trap "" TERM; echo ready; while :; do sleep 0.1; done';

describe('stopProcessGroup', () => {
  it('reports "exited" when the process exits on the stop signal', async () => {
    const { pid, exited } = await start(['sleep', '30']);
    const result = await stopProcessGroup(pid, 'SIGTERM', 5_000, exited);
    assert.equal(result.outcome, 'exited');
    assert.ok(result.afterMs < 5_000, `took ${String(result.afterMs)} ms`);
    assert.equal(isAlive(pid), false);
  });

  it('without an exit promise, polls the pid and still reports "exited"', async () => {
    const { pid } = await start('exec sleep 30');
    const result = await stopProcessGroup(pid, 'SIGINT', 5_000);
    assert.equal(result.outcome, 'exited');
    assert.equal(isAlive(pid), false);
  });

  it('sends SIGKILL to a process that ignores SIGTERM, but only once the timeout has passed', async () => {
    const { pid, exited, logFile } = await start(IGNORE_TERM);
    await fileContaining(logFile, 'ready'); // the trap is in place
    const result = await stopProcessGroup(pid, 'SIGTERM', 300, exited);
    assert.equal(result.outcome, 'killed');
    assert.ok(result.afterMs >= 300, `killed after ${String(result.afterMs)} ms`);
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL');
  });

  it('also kills a background grandchild that ignored SIGTERM after the shell leading the group exited', async () => {
    const { pid, exited, dir, logFile } = await start(`(${IGNORE_TERM}) & echo $! > grandchild.pid; wait`);
    const grandchild = await pidFromFile(join(dir, 'grandchild.pid'));
    await fileContaining(logFile, 'ready');
    const result = await stopProcessGroup(pid, 'SIGTERM', 5_000, exited);
    assert.equal(result.outcome, 'exited'); // the shell itself went at once
    assert.equal(isAlive(grandchild), false);
  });

  it('reports "already-gone" for a process that has already exited', async () => {
    const { pid, exited } = await start('true');
    await exited;
    assert.deepEqual(await stopProcessGroup(pid, 'SIGTERM', 1_000, exited), { outcome: 'already-gone', afterMs: 0 });
  });

  it('refuses pids that would signal our own group or every process (0, 1, negative)', async () => {
    for (const pid of [0, 1, -5, Number.NaN]) {
      await assert.rejects(stopProcessGroup(pid, 'SIGTERM', 100), RangeError);
    }
  });
});

describe('isAlive', () => {
  it('is true for a running process and false once it has exited', async () => {
    assert.equal(isAlive(process.pid), true);
    const { pid, exited } = await start('true');
    await exited;
    assert.equal(isAlive(pid), false);
  });
});

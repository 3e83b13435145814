// Specification of recognising our own instances after a daemon restart: by the exact instance id in the
// process's environment, so a recycled PID is never mistaken for one of ours.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killAllTracked, removeScratchDirs, scratchDir, track } from '../../test/fixtures/runtime/processes.js';
import { findInstanceProcesses, isOurInstanceProcess } from './leftovers.js';
import { startProcess } from './spawn-process.js';

after(() => {
  killAllTracked();
  removeScratchDirs();
});

async function startInstance(instanceId: string, command: string[] = ['sleep', '30']): Promise<ChildProcess> {
  const dir = scratchDir();
  const child = await startProcess({ command, cwd: dir, env: {}, logFile: join(dir, 'app.log'), instanceId });
  track(child.pid);
  return child;
}

describe('isOurInstanceProcess', () => {
  it('is true for the process started as that instance', async () => {
    const pid = track((await startInstance('web-3-1')).pid);
    assert.equal(isOurInstanceProcess(pid, 'web-3-1'), true);
  });

  it('is false for the same process asked about another instance, even one whose id it starts with', async () => {
    const pid = track((await startInstance('web-3-10')).pid);
    assert.equal(isOurInstanceProcess(pid, 'web-3-1'), false);
    assert.equal(isOurInstanceProcess(pid, 'web-3-100'), false);
  });

  it('is false for a process that is not an instance (this test runner)', () => {
    assert.equal(isOurInstanceProcess(process.pid, 'web-3-1'), false);
  });

  it('is false for a process that has exited', async () => {
    const child = await startInstance('web-3-2', ['true']);
    await once(child, 'exit');
    assert.equal(isOurInstanceProcess(track(child.pid), 'web-3-2'), false);
  });

  it('is false for pids that are no process at all', () => {
    for (const pid of [0, -1, 1.5, Number.NaN]) assert.equal(isOurInstanceProcess(pid, 'web-3-1'), false);
  });
});

describe('findInstanceProcesses', () => {
  it('finds the group leader of an instance whose PID was never recorded, and nothing for other ids', async () => {
    const child = await startInstance('orphan-7-1', ['sh', '-c', 'sleep 30 & wait']);
    const pid = track(child.pid);
    const found = findInstanceProcesses(new Set(['orphan-7-1', 'orphan-7-2']));
    assert.equal(found.get('orphan-7-1'), pid);
    assert.equal(found.has('orphan-7-2'), false);
  });
});

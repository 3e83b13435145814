// Specification of instance log files: their place, copy-then-truncate rotation that never loses the app's
// descriptor, reading the tail, and following new output.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from '../../test/helpers/wait.js';
import { killAllTracked, removeScratchDirs, scratchDir, track } from '../../test/fixtures/runtime/processes.js';
import { followLog, instanceLogPath, LogRotator, readLogTail, rotateIfLarge } from './log-files.js';
import { startProcess } from './spawn-process.js';
import { stopProcessGroup } from './stop-process.js';

after(() => {
  killAllTracked();
  removeScratchDirs();
});

const read = (path: string): string => readFileSync(path, 'utf8');

describe('instanceLogPath', () => {
  it('places a log at <state>/logs/<service>/<release>-<n>.log', () => {
    assert.equal(instanceLogPath('/var/lib/sy', 'web', 3, 2), '/var/lib/sy/logs/web/3-2.log');
  });

  it('refuses a service name that would leave the logs directory', () => {
    for (const name of ['', '..', 'a/b', '../etc']) assert.throws(() => instanceLogPath('/s', name, 1, 1), RangeError);
  });
});

describe('rotateIfLarge', () => {
  it('leaves a file at or under the limit alone', async () => {
    const path = join(scratchDir(), 'a.log');
    writeFileSync(path, 'x'.repeat(100));
    assert.equal(await rotateIfLarge(path, 100, 3), false);
    assert.equal(await rotateIfLarge(join(scratchDir(), 'missing.log'), 100, 3), false);
    assert.equal(existsSync(`${path}.1`), false);
  });

  it('copies a large file to .1, shifts older copies up, keeps at most `keep`, and empties the original', async () => {
    const path = join(scratchDir(), 'a.log');
    for (const generation of ['one', 'two', 'three', 'four']) {
      writeFileSync(path, `${generation}\n`, { flag: 'a' });
      assert.equal(await rotateIfLarge(path, 2, 3), true);
      assert.equal(statSync(path).size, 0);
    }
    assert.equal(read(`${path}.1`), 'four\n');
    assert.equal(read(`${path}.2`), 'three\n');
    assert.equal(read(`${path}.3`), 'two\n');
    assert.equal(existsSync(`${path}.4`), false);
  });

  it("keeps a running app's output flowing into the truncated file, written from offset 0", async () => {
    const dir = scratchDir();
    const logFile = join(dir, 'app.log');
    const child = await startProcess({
      command: 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.01; done',
      cwd: dir,
      env: {},
      logFile,
    });
    const pid = track(child.pid);
    const exited = once(child, 'exit');
    await waitFor(() => statSync(logFile).size > 200, { message: 'some output' });
    assert.equal(await rotateIfLarge(logFile, 100, 3), true);

    const before = read(`${logFile}.1`);
    assert.match(before, /^line 1\n/);
    const after = await waitFor(() => {
      const text = read(logFile);
      return text.split('\n').length > 3 ? text : undefined;
    }, { message: 'new output after rotation' });
    // Without O_APPEND the app would write at its old offset, leaving a hole of NUL bytes in front.
    assert.doesNotMatch(after, /\0/);
    const lastBefore = Number(/line (\d+)\n$/.exec(before)?.[1]);
    const firstAfter = Number(/^line (\d+)\n/.exec(after)?.[1]);
    assert.ok(firstAfter > lastBefore, `line ${String(firstAfter)} after line ${String(lastBefore)}`);
    await stopProcessGroup(pid, 'SIGTERM', 5_000, exited);
  });
});

describe('LogRotator', () => {
  it('rotates only the watched files above the limit', async () => {
    const dir = scratchDir();
    const big = join(dir, 'big.log');
    const small = join(dir, 'small.log');
    writeFileSync(big, 'x'.repeat(2_000));
    writeFileSync(small, 'x'.repeat(10));
    const rotator = new LogRotator({ maxBytes: 1_000, keep: 2, intervalMs: 60_000 });
    rotator.add(big);
    rotator.add(small);
    try {
      assert.deepEqual(await rotator.checkNow(), [big]);
      assert.equal(statSync(`${big}.1`).size, 2_000);
      assert.equal(existsSync(`${small}.1`), false);
    } finally {
      rotator.stop();
    }
  });

  it('checks on its own timer once a file is added', async () => {
    const path = join(scratchDir(), 'app.log');
    writeFileSync(path, 'x'.repeat(2_000));
    const rotator = new LogRotator({ maxBytes: 1_000, intervalMs: 20 });
    rotator.add(path);
    try {
      // The copy appears before the original is truncated: wait for both halves of the rotation.
      await waitFor(() => existsSync(`${path}.1`) && statSync(path).size === 0, { message: 'the timer to rotate' });
      assert.equal(statSync(`${path}.1`).size, 2_000);
    } finally {
      rotator.stop();
    }
  });
});

describe('readLogTail', () => {
  it('returns the last bytes of the log', async () => {
    const path = join(scratchDir(), 'app.log');
    writeFileSync(path, 'first\nsecond\nthird\n');
    assert.equal(await readLogTail(path, 13), 'second\nthird\n');
    assert.equal(await readLogTail(path, 1_000), 'first\nsecond\nthird\n');
  });

  it('reaches into .1 when the current file holds less than asked (just rotated)', async () => {
    const path = join(scratchDir(), 'app.log');
    writeFileSync(`${path}.1`, 'old one\nold two\n');
    writeFileSync(path, 'new\n');
    assert.equal(await readLogTail(path, 12), 'old two\nnew\n');
  });

  it('reads a missing log as empty', async () => {
    assert.equal(await readLogTail(join(scratchDir(), 'none.log'), 100), '');
  });

  it('never starts in the middle of a UTF-8 character', async () => {
    const path = join(scratchDir(), 'app.log');
    writeFileSync(path, 'näh\n'); // 'ä' is two bytes: n, c3 a4, h, \n
    assert.equal(await readLogTail(path, 3), 'h\n');
    assert.equal(await readLogTail(path, 4), 'äh\n');
  });
});

describe('followLog', () => {
  it('delivers appended lines, and after rotation the unread rest from .1 and then the new file from its start', async () => {
    const path = join(scratchDir(), 'app.log');
    writeFileSync(path, 'before following\n');
    let seen = '';
    const stop = new AbortController();
    const following = followLog(path, (text) => (seen += text), stop.signal, { intervalMs: 300 });
    try {
      appendFileSync(path, 'a\n');
      await waitFor(() => seen === 'a\n', { message: `"a" (seen ${JSON.stringify(seen)})` });
      // Within one poll interval: append, then rotate, so "b" is only in .1 when the follower looks next.
      appendFileSync(path, 'b\n');
      assert.equal(await rotateIfLarge(path, 0, 3), true);
      await waitFor(() => seen === 'a\nb\n', { message: `"b" (seen ${JSON.stringify(seen)})` });
      appendFileSync(path, 'c\n');
      await waitFor(() => seen === 'a\nb\nc\n', { message: `"c" (seen ${JSON.stringify(seen)})` });
    } finally {
      stop.abort();
    }
    await following; // resolves once aborted
  });

  it('waits for a log that does not exist yet', async () => {
    const path = join(scratchDir(), 'later.log');
    let seen = '';
    const stop = new AbortController();
    const following = followLog(path, (text) => (seen += text), stop.signal, { intervalMs: 20 });
    try {
      writeFileSync(path, 'hello\n');
      await waitFor(() => seen === 'hello\n', { message: 'the new file' });
    } finally {
      stop.abort();
    }
    await following;
  });
});

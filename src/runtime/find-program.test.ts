import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { commandProgram, findProgram } from './find-program.js';

describe('commandProgram', () => {
  it('takes the first word, past variable assignments', () => {
    assert.equal(commandProgram('node server.js'), 'node');
    assert.equal(commandProgram('PORT=3000 NODE_ENV=production ./bin/app --fast'), './bin/app');
    assert.equal(commandProgram(['python3', '-m', 'http.server']), 'python3');
  });

  it('does not judge what the shell decides', () => {
    for (const command of ['cd app && node server.js', '$APP serve', 'exec node x', '"my app" run']) assert.equal(commandProgram(command), undefined, command);
  });
});

describe('findProgram', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-find-program-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds programs on PATH and executables by path from the cwd; not a typo or a plain file', () => {
    writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n');
    chmodSync(join(dir, 'run.sh'), 0o755);
    writeFileSync(join(dir, 'notes.txt'), 'hi');
    assert.equal(findProgram('sh', dir), true);
    assert.equal(findProgram('nodee', dir), false);
    assert.equal(findProgram('./run.sh', dir), true);
    assert.equal(findProgram('./notes.txt', dir), false);
    assert.equal(findProgram('run.sh', dir, `/nonexistent:${dir}`), true);
  });
});

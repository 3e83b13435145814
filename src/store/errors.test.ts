import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { StoreError, storeErrorFromIo } from './errors.js';

const PATH = '/srv/app/.switchyard/state.db';

function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('storeErrorFromIo', () => {
  it('reports a full disk from SQLite as SY_ERR_STATE_UNWRITABLE with the path and the reason', () => {
    const err = storeErrorFromIo(PATH, new Database.SqliteError('database or disk is full', 'SQLITE_FULL'));
    assert.ok(err instanceof StoreError);
    assert.equal(err.code, 'SY_ERR_STATE_UNWRITABLE');
    assert.ok(err.message.startsWith(`cannot write switchyard state at ${PATH}: database or disk is full (SQLITE_FULL)`));
  });

  it('reports a full disk from the file system as SY_ERR_STATE_UNWRITABLE with the OS reason', () => {
    const err = storeErrorFromIo(PATH, systemError('ENOSPC', `ENOSPC: no space left on device, open '${PATH}'`));
    assert.equal(err?.code, 'SY_ERR_STATE_UNWRITABLE');
    assert.match(err?.message ?? '', /state\.db: no space left on device \(ENOSPC\)/);
  });

  it('reports read-only and unopenable databases as SY_ERR_STATE_UNWRITABLE', () => {
    for (const code of ['SQLITE_READONLY', 'SQLITE_READONLY_DIRECTORY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR_WRITE']) {
      assert.equal(storeErrorFromIo(PATH, new Database.SqliteError('x', code))?.code, 'SY_ERR_STATE_UNWRITABLE', code);
    }
  });

  it('reports a file that is not a database as SY_ERR_STATE_CORRUPT', () => {
    const err = storeErrorFromIo(PATH, new Database.SqliteError('file is not a database', 'SQLITE_NOTADB'));
    assert.equal(err?.code, 'SY_ERR_STATE_CORRUPT');
  });

  it('leaves other errors alone, such as a broken constraint', () => {
    const constraint = new Database.SqliteError('FOREIGN KEY constraint failed', 'SQLITE_CONSTRAINT_FOREIGNKEY');
    assert.equal(storeErrorFromIo(PATH, constraint), undefined);
    assert.equal(storeErrorFromIo(PATH, new TypeError('bad')), undefined);
    assert.equal(storeErrorFromIo(PATH, systemError('ECONNRESET', 'ECONNRESET: reset')), undefined);
  });
});

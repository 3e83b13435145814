import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, schemaVersion } from './migrate.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteStore } from './store.js';
import { StoreError } from './errors.js';

const TABLES = ['deployments', 'events', 'instances', 'releases', 'rollback_window_ends', 'routing', 'schema_migrations', 'services', 'steps'];

function tableNames(db: Database.Database): string[] {
  return db
    .prepare<[], string>(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
    .pluck()
    .all();
}

describe('schema migrations', () => {
  let tmp: string;
  let path: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sy-migrate-'));
    path = join(tmp, 'state.db');
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('creates the whole schema in a new database and records every migration', () => {
    SqliteStore.open(tmp).close();
    const db = new Database(path, { readonly: true });
    try {
      assert.deepEqual(tableNames(db), TABLES);
      assert.equal(schemaVersion(db), MIGRATIONS.length);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('is idempotent: reopening applies nothing twice and keeps the data', () => {
    const first = SqliteStore.open(tmp);
    first.createRelease('web', 'v1', { kind: 'static', targets: ['10.0.0.5:3000'] });
    first.close();
    SqliteStore.open(tmp).close();
    const third = SqliteStore.open(tmp);
    try {
      assert.equal(third.releases('web').length, 1);
    } finally {
      third.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      const versions = db.prepare<[], number>('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      assert.deepEqual(versions, MIGRATIONS.map((_, i) => i + 1));
    } finally {
      db.close();
    }
  });

  it('upgrades an older database by applying only the migrations it lacks', () => {
    const v1 = 'CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)';
    const v2 = 'ALTER TABLE notes ADD COLUMN author TEXT';
    const db = new Database(path);
    try {
      migrate(db, path, [v1]);
      db.prepare(`INSERT INTO notes (text) VALUES ('kept')`).run();
      migrate(db, path, [v1, v2]);
      assert.equal(schemaVersion(db), 2);
      assert.deepEqual(db.prepare('SELECT text, author FROM notes').all(), [{ text: 'kept', author: null }]);
    } finally {
      db.close();
    }
  });

  it('applies each migration in a transaction, so a failing one leaves no trace', () => {
    const db = new Database(path);
    try {
      const broken = 'CREATE TABLE half (id INTEGER); INSERT INTO no_such_table VALUES (1)';
      assert.throws(() => migrate(db, path, ['CREATE TABLE whole (id INTEGER)', broken]), /no such table/);
      assert.equal(schemaVersion(db), 1);
      assert.deepEqual(tableNames(db), ['schema_migrations', 'whole']);
    } finally {
      db.close();
    }
  });

  it('refuses a database from a newer switchyard with SY_ERR_STATE_TOO_NEW, and leaves it untouched', () => {
    SqliteStore.open(tmp).close();
    const newer = MIGRATIONS.length + 1;
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(newer, new Date().toISOString());
    db.close();

    assert.throws(
      () => SqliteStore.open(tmp),
      (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.equal(err.code, 'SY_ERR_STATE_TOO_NEW');
        assert.ok(err.message.includes(path), err.message);
        assert.match(err.message, new RegExp(`schema version ${String(newer)}.*up to ${String(MIGRATIONS.length)}`));
        return true;
      },
    );
    const after = new Database(path, { readonly: true });
    try {
      assert.equal(schemaVersion(after), newer);
    } finally {
      after.close();
    }
  });
});

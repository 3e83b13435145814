// Brings a database's schema up to date: each pending migration runs in its own transaction and is
// recorded in schema_migrations; a database from a newer switchyard is refused rather than guessed at.
import type Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { StoreError } from './errors.js';

/** The highest migration applied to `db`; 0 for a new database. */
export function schemaVersion(db: Database.Database): number {
  const version = db.prepare<[], number | null>('SELECT MAX(version) FROM schema_migrations').pluck().get();
  return version ?? 0;
}

/**
 * Applies every migration `db` lacks. `path` names the database in errors.
 * @example
 * migrate(db, '/srv/app/.switchyard/state.db'); // schemaVersion(db) === MIGRATIONS.length
 */
export function migrate(db: Database.Database, path: string, migrations: readonly string[] = MIGRATIONS): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
  )`);
  refuseNewer(schemaVersion(db), migrations.length, path);

  const record = db.prepare<[number, string]>('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  // IMMEDIATE takes the write lock first, so two processes opening at once cannot apply a step twice.
  const apply = db.transaction((version: number, sql: string) => {
    if (schemaVersion(db) >= version) return;
    db.exec(sql);
    record.run(version, new Date().toISOString());
  });
  migrations.forEach((sql, i) => apply.immediate(i + 1, sql));
}

function refuseNewer(found: number, known: number, path: string): void {
  if (found <= known) return;
  throw new StoreError(
    'SY_ERR_STATE_TOO_NEW',
    path,
    `switchyard state at ${path} has schema version ${String(found)}, but this switchyard knows only up to ` +
      `${String(known)}; it was written by a newer switchyard. Upgrade switchyard, or point \`state:\` elsewhere`,
  );
}

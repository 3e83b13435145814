// Opens `<stateDir>/state.db` for a daemon: a private directory and file, and the SQLite settings that make a
// committed write survive a crash or power loss (WAL with synchronous=FULL). Any failure to write is a StoreError.
import { accessSync, chmodSync, closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { storeErrorFromIo } from './errors.js';
import { migrate } from './migrate.js';

export const DB_FILE = 'state.db';
/** How long a write waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Opens (creating if needed) and migrates the state database; returns it with its absolute path. */
export function openDatabase(stateDir: string): { db: Database.Database; path: string } {
  const dir = resolve(stateDir);
  const path = join(dir, DB_FILE);
  prepareFiles(dir, path);

  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    // FULL: every commit is fsynced to the WAL before it returns (invariant 7: written before acted on).
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${String(BUSY_TIMEOUT_MS)}`);
    db.pragma('foreign_keys = ON');
    migrate(db, path);
    return { db, path };
  } catch (err) {
    db?.close();
    throw storeErrorFromIo(path, err) ?? err;
  }
}

/** The state dir holds release env (maybe secrets) and logs, so it is the owner's alone: 0700, db 0600. */
function prepareFiles(dir: string, path: string): void {
  let at = dir;
  try {
    if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dir, 0o700); // whatever the umask
    accessSync(dir, constants.W_OK);
    at = path;
    const isNew = !existsSync(path);
    closeSync(openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600));
    if (isNew) {
      chmodSync(path, 0o600);
      syncDirectory(dir);
    }
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw storeErrorFromIo(at, err) ?? err;
  }
}

/** Makes a newly created directory entry durable, so the db file itself survives a power loss. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

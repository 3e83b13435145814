// Reading the state without a daemon (`switchyard logs` while it is down): a read-only connection that
// writes nothing, migrates nothing and takes no write lock, so it cannot disturb a daemon that starts.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE } from './connection.js';
import { StoreError } from './errors.js';

/** An instance as its log file is found: by service, release number and ordinal. */
export interface InstanceFileRow {
  id: string;
  service: string;
  state: string;
  releaseNumber: number;
  ordinal: number;
}

/**
 * A service's instances, oldest first, from `<stateDir>/state.db`.
 * @throws StoreError SY_ERR_STATE_NOT_FOUND when there is no state there yet
 */
export function instancesForLogs(stateDir: string, service: string): InstanceFileRow[] {
  const path = join(resolve(stateDir), DB_FILE);
  if (!existsSync(path)) throw new StoreError('SY_ERR_STATE_NOT_FOUND', path, `no switchyard state at ${path}: has \`switchyard up\` run with this config?`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare<[string], InstanceFileRow>(
        `SELECT i.id, i.service, i.state, r.number AS releaseNumber, i.ordinal
         FROM instances i JOIN releases r ON r.id = i.release_id
         WHERE i.service = ? ORDER BY i.release_id, i.ordinal, i.id`,
      )
      .all(service);
  } finally {
    db.close();
  }
}

// Releases: the versions of a service, numbered 1, 2, 3… per service, each with its resolved run spec.
import type Database from 'better-sqlite3';
import type { ReleaseRecord, ReleaseRow, ReleaseSpec } from './rows.js';
import { nowIso, releaseFromRecord, toJson } from './rows.js';

export class ReleaseTable {
  readonly #insert: Database.Statement<{ service: string; version: string; spec: string; createdAt: string }, ReleaseRecord>;
  readonly #byId: Database.Statement<[number], ReleaseRecord>;
  readonly #byService: Database.Statement<[string], ReleaseRecord>;
  readonly #latestByVersion: Database.Statement<[string, string], ReleaseRecord>;

  constructor(db: Database.Database) {
    // One statement picks the next number and inserts, so the numbering cannot race.
    this.#insert = db.prepare(
      `INSERT INTO releases (service, number, version, spec, created_at)
       SELECT @service, COALESCE(MAX(number), 0) + 1, @version, @spec, @createdAt FROM releases WHERE service = @service
       RETURNING *`,
    );
    this.#byId = db.prepare('SELECT * FROM releases WHERE id = ?');
    this.#byService = db.prepare('SELECT * FROM releases WHERE service = ? ORDER BY number DESC');
    this.#latestByVersion = db.prepare(
      'SELECT * FROM releases WHERE service = ? AND version = ? ORDER BY number DESC LIMIT 1',
    );
  }

  /** Inserts the service's next release. The service must exist. */
  create(service: string, version: string, spec: ReleaseSpec): ReleaseRow {
    const record = this.#insert.get({ service, version, spec: toJson(spec), createdAt: nowIso() });
    if (record === undefined) throw new Error('INSERT … RETURNING returned no row');
    return releaseFromRecord(record);
  }

  byId(id: number): ReleaseRow | undefined {
    const record = this.#byId.get(id);
    return record && releaseFromRecord(record);
  }

  /** Newest first. */
  forService(service: string): ReleaseRow[] {
    return this.#byService.all(service).map(releaseFromRecord);
  }

  latestByVersion(service: string, version: string): ReleaseRow | undefined {
    const record = this.#latestByVersion.get(service, version);
    return record && releaseFromRecord(record);
  }
}

// Instances: running copies of a release, with the address and pid the supervisor gave them and their state.
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import type { InstanceRecord, InstanceRow, InstanceState } from './rows.js';
import { instanceFromRecord, nowIso } from './rows.js';

export interface NewInstance {
  id: string;
  service: string;
  releaseId: number;
  ordinal: number;
  address: string | null;
  pid: number | null;
  state: InstanceState;
  /** The cluster host that runs it (omitted on a single host). */
  node?: string | null;
}

export type InstancePatch = Partial<Pick<InstanceRow, 'address' | 'pid' | 'state' | 'restarts' | 'node'>>;

export interface InstanceFilter {
  service?: string;
  releaseId?: number;
  states?: InstanceState[];
}

interface UpdateParams {
  id: string;
  setAddress: number;
  address: string | null;
  setPid: number;
  pid: number | null;
  state: InstanceState | null;
  restarts: number | null;
  node: string | null;
  updatedAt: string;
}

interface FilterParams {
  service: string | null;
  releaseId: number | null;
  states: string | null;
}

export class InstanceTable {
  readonly #insert: Database.Statement<NewInstance & { node: string | null; now: string }, InstanceRecord>;
  readonly #update: Database.Statement<UpdateParams, InstanceRecord>;
  readonly #byId: Database.Statement<[string], InstanceRecord>;
  readonly #filter: Database.Statement<FilterParams, InstanceRecord>;
  readonly #nextOrdinal: Database.Statement<[number], number>;

  constructor(
    db: Database.Database,
    readonly path: string,
  ) {
    this.#insert = db.prepare(
      `INSERT INTO instances (id, service, release_id, ordinal, address, pid, state, restarts, node, created_at, updated_at)
       VALUES (@id, @service, @releaseId, @ordinal, @address, @pid, @state, 0, @node, @now, @now)
       RETURNING *`,
    );
    // address and pid may be set to null, so "leave as is" needs its own flag; state and restarts may not.
    this.#update = db.prepare(
      `UPDATE instances SET
         address = CASE WHEN @setAddress THEN @address ELSE address END,
         pid = CASE WHEN @setPid THEN @pid ELSE pid END,
         state = COALESCE(@state, state),
         restarts = COALESCE(@restarts, restarts),
         node = COALESCE(@node, node),
         updated_at = @updatedAt
       WHERE id = @id
       RETURNING *`,
    );
    this.#byId = db.prepare('SELECT * FROM instances WHERE id = ?');
    this.#filter = db.prepare(
      `SELECT * FROM instances
       WHERE (@service IS NULL OR service = @service)
         AND (@releaseId IS NULL OR release_id = @releaseId)
         AND (@states IS NULL OR state IN (SELECT value FROM json_each(@states)))
       ORDER BY release_id, ordinal, id`,
    );
    this.#nextOrdinal = db
      .prepare<[number], number>(
        `SELECT COALESCE(MAX(i.ordinal), 0) + 1 FROM instances i JOIN releases r ON r.id = i.release_id
         JOIN releases mine ON mine.id = ? AND r.service = mine.service AND r.version = mine.version`,
      )
      .pluck();
  }

  create(row: NewInstance): InstanceRow {
    const record = this.#insert.get({ ...row, node: row.node ?? null, now: nowIso() });
    if (record === undefined) throw new Error('INSERT … RETURNING returned no row');
    return instanceFromRecord(record);
  }

  update(id: string, patch: InstancePatch): InstanceRow {
    const record = this.#update.get({
      id,
      setAddress: patch.address === undefined ? 0 : 1,
      address: patch.address ?? null,
      setPid: patch.pid === undefined ? 0 : 1,
      pid: patch.pid ?? null,
      state: patch.state ?? null,
      restarts: patch.restarts ?? null,
      node: patch.node ?? null,
      updatedAt: nowIso(),
    });
    if (record === undefined) throw new StoreError('SY_ERR_STATE_NOT_FOUND', this.path, `no instance ${id} to update`);
    return instanceFromRecord(record);
  }

  byId(id: string): InstanceRow | undefined {
    const record = this.#byId.get(id);
    return record && instanceFromRecord(record);
  }

  /** Ordered by release, then ordinal. */
  list(filter: InstanceFilter = {}): InstanceRow[] {
    return this.#filter
      .all({
        service: filter.service ?? null,
        releaseId: filter.releaseId ?? null,
        states: filter.states === undefined ? null : JSON.stringify(filter.states),
      })
      .map(instanceFromRecord);
  }

  /**
   * One more than the highest ordinal of any release of the service with this release's version label,
   * so ordinals are never reused and `web-v12-3` names one instance even when v12 was deployed twice.
   */
  nextOrdinal(releaseId: number): number {
    return this.#nextOrdinal.get(releaseId) ?? 1;
  }
}

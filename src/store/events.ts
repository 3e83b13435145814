// The event history: everything a deployment or instance did, in order. Kept whole, never pruned;
// read by the dashboard, SSE clients (resuming after an id) and `switchyard history`.
import type Database from 'better-sqlite3';
import type { EventRecord, EventRow, NewEvent } from './rows.js';
import { eventFromRecord, nowIso, toJson } from './rows.js';

export interface EventFilter {
  service?: string;
  deploymentId?: number;
  /** Only events after this id, oldest first; without it, the last `limit` events. */
  afterId?: number;
  /** At most this many; 500 unless given. */
  limit?: number;
}

export const DEFAULT_EVENT_LIMIT = 500;

interface InsertParams {
  time: string;
  service: string | null;
  deploymentId: number | null;
  instanceId: string | null;
  type: string;
  message: string;
  data: string | null;
}

interface QueryParams {
  service: string | null;
  deploymentId: number | null;
  afterId: number | null;
  limit: number;
}

export class EventTable {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<InsertParams, EventRecord>;
  /** One statement per filter shape, so each can use its index; prepared on first use, then reused. */
  readonly #queries = new Map<string, Database.Statement<QueryParams, EventRecord>>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT INTO events (time, service, deployment_id, instance_id, type, message, data)
       VALUES (@time, @service, @deploymentId, @instanceId, @type, @message, @data)
       RETURNING *`,
    );
  }

  add(event: NewEvent): EventRow {
    const record = this.#insert.get({
      time: nowIso(),
      service: event.service ?? null,
      deploymentId: event.deploymentId ?? null,
      instanceId: event.instanceId ?? null,
      type: event.type,
      message: event.message,
      data: event.data === undefined ? null : toJson(event.data),
    });
    if (record === undefined) throw new Error('INSERT … RETURNING returned no row');
    return eventFromRecord(record);
  }

  /** Oldest first. */
  list(filter: EventFilter = {}): EventRow[] {
    const params: QueryParams = {
      service: filter.service ?? null,
      deploymentId: filter.deploymentId ?? null,
      afterId: filter.afterId ?? null,
      limit: Math.max(0, Math.floor(filter.limit ?? DEFAULT_EVENT_LIMIT)),
    };
    return this.#query(params).all(params).map(eventFromRecord);
  }

  #query(params: QueryParams): Database.Statement<QueryParams, EventRecord> {
    const key = [params.service, params.deploymentId, params.afterId].map((p) => (p === null ? '-' : '+')).join('');
    let statement = this.#queries.get(key);
    if (statement === undefined) {
      statement = this.#db.prepare(querySql(params));
      this.#queries.set(key, statement);
    }
    return statement;
  }
}

function querySql(params: QueryParams): string {
  const where = [
    params.service === null ? undefined : 'service = @service',
    params.deploymentId === null ? undefined : 'deployment_id = @deploymentId',
    params.afterId === null ? undefined : 'id > @afterId',
  ].filter((c) => c !== undefined);
  const whereSql = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
  if (params.afterId !== null) return `SELECT * FROM events ${whereSql} ORDER BY id LIMIT @limit`;
  // The last N, still returned oldest first.
  return `SELECT * FROM (SELECT * FROM events ${whereSql} ORDER BY id DESC LIMIT @limit) ORDER BY id`;
}

// The local copy of a cluster's desired state: the same SQLite tables as a single host's store, in memory,
// so every read (and every write's own bookkeeping: release numbers, ordinals) is the SqliteStore's code.
// Rows travel to and from etcd as their raw records (snake_case columns, JSON as text), one key per row.
import Database from 'better-sqlite3';
import { migrate } from '../migrate.js';
import { SqliteStore } from '../store.js';
import { type Folder, TABLE_OF_FOLDER, keyOf } from './keys.js';

type Row = Record<string, unknown>;

/** The column that names a row in its key, per folder (events: the key is kept aside, the id is etcd's). */
const KEY_COLUMN: Record<Exclude<Folder, 'events'>, string> = {
  services: 'name',
  releases: 'id',
  instances: 'id',
  deployments: 'id',
  steps: 'deployment_id',
  routing: 'service',
  'rollback-windows': 'release_id',
};

const INTEGER_KEYS = new Set<Folder>(['releases', 'deployments', 'steps', 'rollback-windows']);

export class Mirror {
  readonly store: SqliteStore;
  readonly #db: Database.Database;
  readonly #columns = new Map<string, Set<string>>();

  constructor(label: string) {
    this.#db = new Database(':memory:');
    migrate(this.#db, label);
    // Rows arrive in etcd's order, which a re-list does not make parent-first.
    this.#db.pragma('foreign_keys = OFF');
    this.#db.exec('CREATE TABLE event_keys (key TEXT PRIMARY KEY, id INTEGER NOT NULL)');
    for (const table of Object.values(TABLE_OF_FOLDER)) {
      const names = this.#db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all();
      this.#columns.set(table, new Set(names.map((c) => c.name)));
    }
    this.store = SqliteStore.attach(this.#db, label);
  }

  /** What etcd should hold for a key, as the mirror has it now (steps: the whole plan); undefined = no row. */
  value(folder: Exclude<Folder, 'events'>, id: string | number): unknown {
    const table = TABLE_OF_FOLDER[folder];
    const rows = this.#db.prepare<[unknown], Row>(`SELECT * FROM ${table} WHERE ${KEY_COLUMN[folder]} = ?`).all(id);
    if (folder === 'steps') return rows.length === 0 ? undefined : rows.sort((a, b) => Number(a.step_index) - Number(b.step_index));
    return rows[0];
  }

  /**
   * Makes the mirror hold what etcd holds for a key: `value` (a parsed record) or, when null, nothing.
   * An event's id is `revision`, the revision that created its key. Returns the event row when one was added.
   */
  apply(folder: Folder, id: string, value: unknown, revision: number): Row | null {
    const table = TABLE_OF_FOLDER[folder];
    if (folder === 'events') return this.#applyEvent(id, value, revision);
    const keyValue = INTEGER_KEYS.has(folder) ? Number(id) : id;
    this.#db.prepare(`DELETE FROM ${table} WHERE ${KEY_COLUMN[folder]} = ?`).run(keyValue);
    if (value === null) return null;
    const rows = folder === 'steps' ? (Array.isArray(value) ? (value as Row[]) : []) : [value as Row];
    for (const row of rows) this.#insert(table, row);
    return null;
  }

  /** Every key the mirror holds a row for (relative to the prefix). */
  keys(): Set<string> {
    const keys = new Set<string>();
    for (const [folder, column] of Object.entries(KEY_COLUMN)) {
      const table = TABLE_OF_FOLDER[folder as Folder];
      for (const value of this.#db.prepare<[], unknown>(`SELECT DISTINCT ${column} FROM ${table}`).pluck().all()) keys.add(keyOf(folder as Folder, String(value)));
    }
    for (const key of this.#db.prepare<[], string>('SELECT key FROM event_keys').pluck().all()) keys.add(keyOf('events', key));
    return keys;
  }

  /** Runs `fn` as one SQLite transaction over the mirror (a watch batch is applied whole). */
  atomically<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #applyEvent(key: string, value: unknown, revision: number): Row | null {
    const known = this.#db.prepare<[string], number>('SELECT id FROM event_keys WHERE key = ?').pluck().get(key);
    if (value === null) {
      if (known !== undefined) {
        this.#db.prepare('DELETE FROM events WHERE id = ?').run(known);
        this.#db.prepare('DELETE FROM event_keys WHERE key = ?').run(key);
      }
      return null;
    }
    // A put over an existing event key (a retried write) keeps the id its first put gave it.
    if (known !== undefined) return null;
    const row = { ...(value as Row), id: revision };
    this.#insert('events', row);
    this.#db.prepare('INSERT INTO event_keys (key, id) VALUES (?, ?)').run(key, revision);
    return row;
  }

  /** Inserts a raw record, keeping only the table's own columns (a newer writer may add fields). */
  #insert(table: string, row: Row): void {
    const known = this.#columns.get(table)!;
    const columns = Object.keys(row).filter((c) => known.has(c));
    const values = columns.map((c) => {
      const v = row[c];
      return v !== null && typeof v === 'object' ? JSON.stringify(v) : (v as string | number | null);
    });
    this.#db.prepare(`INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...values);
  }
}

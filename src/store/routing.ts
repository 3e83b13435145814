// Each service's traffic split as the controller last published it, by instance id, and its standby
// release: written before the table goes out (invariant 7), read by the next controller to resume.
import type Database from 'better-sqlite3';
import { fromJson, nowIso, toJson } from './rows.js';

/** The split of a service's traffic, as data. */
export interface StoredRouting {
  /** Instance ids in rotation. */
  inRotation: string[];
  /** [release id, percent] pairs; null = each instance in rotation gets an equal share. */
  weights: [number, number][] | null;
  previewRelease: number | null;
  rules: { rule: unknown; releaseId: number }[];
}

/** A blue-green source kept running out of rotation for an instant rollback, until `until` (epoch ms). */
export interface StoredStandby {
  releaseId: number;
  until: number;
  deploymentId: number;
}

export class RoutingTableRows {
  readonly #upsertRouting: Database.Statement<[string, string, string]>;
  readonly #setStandby: Database.Statement<[string | null, string, string]>;
  readonly #get: Database.Statement<[string], { routing: string; standby: string | null }>;

  constructor(db: Database.Database) {
    this.#upsertRouting = db.prepare(
      `INSERT INTO routing (service, routing, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (service) DO UPDATE SET routing = excluded.routing, updated_at = excluded.updated_at`,
    );
    this.#setStandby = db.prepare('UPDATE routing SET standby = ?, updated_at = ? WHERE service = ?');
    this.#get = db.prepare('SELECT routing, standby FROM routing WHERE service = ?');
  }

  setRouting(service: string, routing: StoredRouting): void {
    this.#upsertRouting.run(service, toJson(routing), nowIso());
  }

  routing(service: string): StoredRouting | null {
    const row = this.#get.get(service);
    return row === undefined ? null : (fromJson(row.routing) as StoredRouting);
  }

  setStandby(service: string, standby: StoredStandby | null): void {
    this.#setStandby.run(standby === null ? null : toJson(standby), nowIso(), service);
  }

  standby(service: string): StoredStandby | null {
    const row = this.#get.get(service);
    return row?.standby == null ? null : (fromJson(row.standby) as StoredStandby);
  }
}

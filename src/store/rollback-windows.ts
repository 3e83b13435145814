// Where the rollback window ended: releases for which a hook marked `endsRollbackWindow` ran (a contract
// migration), so that going back to a release before them needs force.
import type Database from 'better-sqlite3';
import { nowIso } from './rows.js';

export interface RollbackWindowEnd {
  releaseId: number;
  /** The release's number, for comparing with the rollback's target. */
  releaseNumber: number;
  service: string;
  /** In words for the user: which hook, of which release, when. */
  reason: string;
  createdAt: string;
}

interface Record {
  release_id: number;
  number: number;
  service: string;
  reason: string;
  created_at: string;
}

export class RollbackWindowTable {
  readonly #insert: Database.Statement<{ releaseId: number; service: string; reason: string; createdAt: string }>;
  readonly #delete: Database.Statement<[number]>;
  readonly #forService: Database.Statement<[string], Record>;

  constructor(db: Database.Database) {
    // The first end recorded for a release is kept: that is when it became unsafe to go back.
    this.#insert = db.prepare(
      `INSERT INTO rollback_window_ends (release_id, service, reason, created_at) VALUES (@releaseId, @service, @reason, @createdAt)
       ON CONFLICT (release_id) DO NOTHING`,
    );
    this.#delete = db.prepare('DELETE FROM rollback_window_ends WHERE release_id = ?');
    this.#forService = db.prepare(
      `SELECT w.release_id, r.number, w.service, w.reason, w.created_at FROM rollback_window_ends w
       JOIN releases r ON r.id = w.release_id WHERE w.service = ? ORDER BY r.number DESC`,
    );
  }

  /** True when this call recorded it (false: it was recorded before). */
  end(service: string, releaseId: number, reason: string): boolean {
    return this.#insert.run({ releaseId, service, reason, createdAt: nowIso() }).changes === 1;
  }

  reopen(releaseId: number): void {
    this.#delete.run(releaseId);
  }

  /** Newest release first. */
  forService(service: string): RollbackWindowEnd[] {
    return this.#forService.all(service).map((r) => ({ releaseId: r.release_id, releaseNumber: r.number, service: r.service, reason: r.reason, createdAt: r.created_at }));
  }
}

// Services as the store knows them: a name, and which release is stable (serving when no deployment runs).
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { nowIso } from './rows.js';

export class ServiceTable {
  readonly #ensure: Database.Statement<[string, string]>;
  readonly #setStable: Database.Statement<{ service: string; releaseId: number }>;
  readonly #stableId: Database.Statement<[string], number | null>;
  readonly #list: Database.Statement<[], { name: string; stable_release_id: number | null }>;
  readonly #clearStable: Database.Statement<[string]>;
  readonly #setInstances: Database.Statement<[number | null, string]>;
  readonly #instances: Database.Statement<[string], number | null>;

  constructor(db: Database.Database, readonly path: string) {
    this.#ensure = db.prepare('INSERT INTO services (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING');
    this.#setStable = db.prepare(
      `UPDATE services SET stable_release_id = @releaseId
       WHERE name = @service AND EXISTS (SELECT 1 FROM releases WHERE id = @releaseId AND service = @service)`,
    );
    this.#stableId = db.prepare<[string], number | null>('SELECT stable_release_id FROM services WHERE name = ?').pluck();
    this.#list = db.prepare('SELECT name, stable_release_id FROM services ORDER BY name');
    this.#clearStable = db.prepare('UPDATE services SET stable_release_id = NULL WHERE name = ?');
    this.#setInstances = db.prepare('UPDATE services SET instances = ? WHERE name = ?');
    this.#instances = db.prepare<[string], number | null>('SELECT instances FROM services WHERE name = ?').pluck();
  }

  /** The count `scale` set, or null for the config's. */
  scaledInstances(service: string): number | null {
    return this.#instances.get(service) ?? null;
  }

  setScaledInstances(service: string, count: number | null): void {
    this.#setInstances.run(count, service);
  }

  /** The service has no stable release (a first deployment that was rolled back). */
  clearStable(service: string): void {
    this.#clearStable.run(service);
  }

  ensure(name: string): void {
    this.#ensure.run(name, nowIso());
  }

  /** The stable release's id; undefined when the service is unknown or has none yet. */
  stableReleaseId(service: string): number | undefined {
    return this.#stableId.get(service) ?? undefined;
  }

  setStable(service: string, releaseId: number): void {
    if (this.#setStable.run({ service, releaseId }).changes === 0) {
      throw new StoreError(
        'SY_ERR_STATE_NOT_FOUND',
        this.path,
        `cannot make release ${String(releaseId)} stable for ${service}: no such release of that service`,
      );
    }
  }

  list(): { name: string; stableReleaseId: number | null }[] {
    return this.#list.all().map((r) => ({ name: r.name, stableReleaseId: r.stable_release_id }));
  }
}

// Deployments: the move of a service from one release to another, by a strategy, and how it ended.
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import type { DeploymentRecord, DeploymentRow, DeploymentState } from './rows.js';
import { deploymentFromRecord, nowIso } from './rows.js';

export interface NewDeployment {
  service: string;
  fromReleaseId: number | null;
  toReleaseId: number;
  strategy: string;
  kind: 'deploy' | 'rollback';
  state: DeploymentState;
}

export type DeploymentPatch = Partial<Pick<DeploymentRow, 'state' | 'reason' | 'finishedAt'>>;

/** The states in which a deployment still owns its service; a restarted daemon resumes or aborts these. */
export const ACTIVE_DEPLOYMENT_STATES: readonly DeploymentState[] = ['pending', 'progressing', 'paused', 'rolling-back'];

interface UpdateParams {
  id: number;
  state: DeploymentState | null;
  setReason: number;
  reason: string | null;
  setFinishedAt: number;
  finishedAt: string | null;
  updatedAt: string;
}

export class DeploymentTable {
  readonly #insert: Database.Statement<NewDeployment & { now: string }, DeploymentRecord>;
  readonly #update: Database.Statement<UpdateParams, DeploymentRecord>;
  readonly #byId: Database.Statement<[number], DeploymentRecord>;
  readonly #byService: Database.Statement<[string, number], DeploymentRecord>;
  readonly #active: Database.Statement<[], DeploymentRecord>;

  constructor(
    db: Database.Database,
    readonly path: string,
  ) {
    this.#insert = db.prepare(
      `INSERT INTO deployments
         (service, from_release_id, to_release_id, strategy, kind, state, created_at, updated_at)
       VALUES (@service, @fromReleaseId, @toReleaseId, @strategy, @kind, @state, @now, @now)
       RETURNING *`,
    );
    this.#update = db.prepare(
      `UPDATE deployments SET
         state = COALESCE(@state, state),
         reason = CASE WHEN @setReason THEN @reason ELSE reason END,
         finished_at = CASE WHEN @setFinishedAt THEN @finishedAt ELSE finished_at END,
         updated_at = @updatedAt
       WHERE id = @id
       RETURNING *`,
    );
    this.#byId = db.prepare('SELECT * FROM deployments WHERE id = ?');
    this.#byService = db.prepare('SELECT * FROM deployments WHERE service = ? ORDER BY id DESC LIMIT ?');
    const active = ACTIVE_DEPLOYMENT_STATES.map((s) => `'${s}'`).join(', ');
    this.#active = db.prepare(`SELECT * FROM deployments WHERE state IN (${active}) ORDER BY id`);
  }

  create(row: NewDeployment): DeploymentRow {
    const record = this.#insert.get({ ...row, now: nowIso() });
    if (record === undefined) throw new Error('INSERT … RETURNING returned no row');
    return deploymentFromRecord(record);
  }

  update(id: number, patch: DeploymentPatch): DeploymentRow {
    const record = this.#update.get({
      id,
      state: patch.state ?? null,
      setReason: patch.reason === undefined ? 0 : 1,
      reason: patch.reason ?? null,
      setFinishedAt: patch.finishedAt === undefined ? 0 : 1,
      finishedAt: patch.finishedAt ?? null,
      updatedAt: nowIso(),
    });
    if (record === undefined) {
      throw new StoreError('SY_ERR_STATE_NOT_FOUND', this.path, `no deployment ${String(id)} to update`);
    }
    return deploymentFromRecord(record);
  }

  byId(id: number): DeploymentRow | undefined {
    const record = this.#byId.get(id);
    return record && deploymentFromRecord(record);
  }

  /** Newest first; all of them without a limit. */
  forService(service: string, limit?: number): DeploymentRow[] {
    return this.#byService.all(service, limit === undefined ? -1 : Math.max(0, Math.floor(limit))).map(deploymentFromRecord);
  }

  /** Oldest first. */
  active(): DeploymentRow[] {
    return this.#active.all().map(deploymentFromRecord);
  }
}

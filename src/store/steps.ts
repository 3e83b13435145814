// A deployment's plan: the ordered steps a strategy returned, each with the state the executor left it in.
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import type { StepRecord, StepRow, StepState } from './rows.js';
import { stepFromRecord, toJson } from './rows.js';

export type StepPatch = Partial<Pick<StepRow, 'state' | 'detail' | 'startedAt' | 'finishedAt' | 'undo'>>;

interface UpdateParams {
  deploymentId: number;
  index: number;
  state: StepState | null;
  setDetail: number;
  detail: string | null;
  setStartedAt: number;
  startedAt: string | null;
  setFinishedAt: number;
  finishedAt: string | null;
  setUndo: number;
  undo: string | null;
}

export class StepTable {
  readonly #clear: Database.Statement<[number]>;
  readonly #insert: Database.Statement<[number, number, string, string]>;
  readonly #update: Database.Statement<UpdateParams>;
  readonly #list: Database.Statement<[number], StepRecord>;
  readonly #replace: (deploymentId: number, steps: readonly { kind: string; params: unknown }[]) => void;

  constructor(
    db: Database.Database,
    readonly path: string,
  ) {
    this.#clear = db.prepare('DELETE FROM steps WHERE deployment_id = ?');
    this.#insert = db.prepare(
      `INSERT INTO steps (deployment_id, step_index, kind, params, state) VALUES (?, ?, ?, ?, 'pending')`,
    );
    this.#update = db.prepare(
      `UPDATE steps SET
         state = COALESCE(@state, state),
         detail = CASE WHEN @setDetail THEN @detail ELSE detail END,
         started_at = CASE WHEN @setStartedAt THEN @startedAt ELSE started_at END,
         finished_at = CASE WHEN @setFinishedAt THEN @finishedAt ELSE finished_at END,
         undo = CASE WHEN @setUndo THEN @undo ELSE undo END
       WHERE deployment_id = @deploymentId AND step_index = @index`,
    );
    this.#list = db.prepare('SELECT * FROM steps WHERE deployment_id = ? ORDER BY step_index');
    this.#replace = db.transaction((deploymentId: number, steps: readonly { kind: string; params: unknown }[]) => {
      this.#clear.run(deploymentId);
      steps.forEach((step, index) => this.#insert.run(deploymentId, index, step.kind, toJson(step.params)));
    });
  }

  /** Replaces the deployment's plan in one transaction; every step starts pending, indexed from 0. */
  save(deploymentId: number, steps: readonly { kind: string; params: unknown }[]): void {
    this.#replace(deploymentId, steps);
  }

  update(deploymentId: number, index: number, patch: StepPatch): void {
    const { changes } = this.#update.run({
      deploymentId,
      index,
      state: patch.state ?? null,
      setDetail: patch.detail === undefined ? 0 : 1,
      detail: patch.detail ?? null,
      setStartedAt: patch.startedAt === undefined ? 0 : 1,
      startedAt: patch.startedAt ?? null,
      setFinishedAt: patch.finishedAt === undefined ? 0 : 1,
      finishedAt: patch.finishedAt ?? null,
      setUndo: patch.undo === undefined ? 0 : 1,
      undo: patch.undo === undefined ? null : toJson(patch.undo),
    });
    if (changes === 0) {
      throw new StoreError(
        'SY_ERR_STATE_NOT_FOUND',
        this.path,
        `no step ${String(index)} in deployment ${String(deploymentId)} to update`,
      );
    }
  }

  list(deploymentId: number): StepRow[] {
    return this.#list.all(deploymentId).map(stepFromRecord);
  }
}

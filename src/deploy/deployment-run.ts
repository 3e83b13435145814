// The executor: runs a deployment's steps in order, writing each transition to the store before acting
// (invariant 7), and on failure or abort undoes the steps done, newest first, which brings stable back
// to full strength before the target leaves (invariant 4). Pause, resume, promote and abort steer it.
import type { ServiceConfig } from '../config/index.js';
import type { Instance } from '../runtime/instance.js';
import { withLastLine } from '../runtime/instance-output.js';
import type { InstanceRuntime } from '../runtime/instance-runtime.js';
import { CRASH_LOOP_EXITS, InstanceStartError } from '../runtime/supervisor.js';
import type { DeploymentRow, DeploymentState, ReleaseRow, StepRow, Store } from '../store/index.js';
import { DeployError, DeploymentFailure } from './errors.js';
import { killIfFaultPoint } from './fault-injection.js';
import type { Verdict } from './analysis/judge.js';
import type { Routing } from './routing.js';
import { describeStep, type ReleaseRole, type RotationCount, type Step, type StepNames, type Weights, stepNames } from './steps.js';
import { describeUndo, type RouteSnapshot, type UndoAction } from './undo.js';

export type HookName = 'preDeploy' | 'postDeploy' | 'onRollback';

/** What a run needs from the controller around it. */
export interface RunContext {
  readonly service: string;
  readonly store: Store;
  readonly supervisor: InstanceRuntime;
  config(): ServiceConfig;
  routing(): Routing;
  /** Resolves once every proxy routes by the new split. */
  applyRouting(next: Routing, alsoWrite?: () => void): Promise<void>;
  setStable(releaseId: number | null): void;
  /** Runs a hook (if configured); resolves false when it failed. */
  runHook(hook: HookName, target: ReleaseRow, previous: ReleaseRow | null, deploymentId: number): Promise<boolean>;
  /** Keeps a release's out-of-rotation instances for a while, then stops them and runs postDeploy. */
  standby(release: ReleaseRow, delayMs: number, deploymentId: number): void;
  /** One analysis verdict: target against stable since `fromSecond`, extra checks included. */
  analyze(target: ReleaseRow, stable: ReleaseRow | null, fromSecond: number): Promise<Verdict>;
}

interface Undo {
  index: number;
  action: UndoAction;
}

/** Where a run begins: a fresh plan, or a deployment another controller left in the store (resume). */
export interface RunOptions {
  skipPauses: boolean;
  /** The deployment's steps as stored, when a new controller takes it over. */
  resume?: readonly StepRow[];
}

export class DeploymentRun {
  readonly finished: Promise<DeploymentRow>;
  /** Resolves once the first route step is in force (or the run ended without one). */
  readonly routed: Promise<void>;
  private markRouted: () => void = () => {};
  private readonly abort = new AbortController();
  private userPaused = false;
  private wakeUp: (() => void) | null = null;
  private promoteWaiter: (() => void) | null = null;
  private skipPauses: boolean;
  private readonly undo: Undo[] = [];
  private currentStep = -1;
  /** Stored steps of a deployment taken over from another controller. */
  private readonly stored: readonly StepRow[] | null;
  private readonly crashes = new Map<Instance, number>();
  private halted = false;

  constructor(
    private readonly ctx: RunContext,
    public row: DeploymentRow,
    readonly steps: readonly Step[],
    readonly target: ReleaseRow,
    readonly stable: ReleaseRow | null,
    options: RunOptions,
  ) {
    this.skipPauses = options.skipPauses;
    this.stored = options.resume ?? null;
    this.routed = new Promise((resolve) => (this.markRouted = resolve));
    const stopListening = ctx.supervisor.onCrash((instance, output) => this.onCrash(instance, output));
    this.finished = this.run().finally(() => {
      stopListening();
      this.markRouted();
    });
  }

  get id(): number {
    return this.row.id;
  }

  private get names(): StepNames {
    return stepNames(this.target, this.stable);
  }

  get step(): number {
    return this.currentStep;
  }

  get isActive(): boolean {
    return ['pending', 'progressing', 'paused', 'rolling-back'].includes(this.row.state);
  }

  pause(): void {
    if (this.row.state !== 'progressing') throw new DeployError('not_possible', `the deployment is ${this.row.state}; only a progressing deployment can be paused`);
    this.userPaused = true;
    this.setState('paused', 'paused by user');
  }

  resume(): void {
    if (!this.userPaused) throw new DeployError('not_possible', this.promoteWaiter ? 'the deployment waits at a pause step; use promote to go on' : 'the deployment is not paused');
    this.userPaused = false;
    this.setState('progressing', 'resumed by user');
    this.wakeUp?.();
  }

  /** Ends the current pause step; `full` also skips every pause after it. */
  promote(full: boolean): void {
    if (!this.isActive || this.row.state === 'rolling-back') throw new DeployError('not_possible', `the deployment is ${this.row.state}`);
    if (full) this.skipPauses = true;
    if (this.promoteWaiter === null && !full) throw new DeployError('not_possible', 'the deployment is not waiting at a pause step (use --full to skip all remaining pauses)');
    this.event('deployment.promoted', full ? 'promoted by user: skipping all remaining pauses' : 'promoted by user');
    this.promoteWaiter?.();
    if (this.userPaused) this.resume();
  }

  /**
   * Stops the run where it is, without rolling back: the daemon is stopping (its deployment is settled
   * as interrupted) or another controller takes over.
   */
  halt(): void {
    this.halted = true;
    this.abort.abort(new DeploymentFailure('halted', 'aborted'));
  }

  /** Stops going forward and rolls back to stable. */
  cancel(reason: string): void {
    if (this.row.state === 'rolling-back' || !this.isActive) throw new DeployError('not_possible', `the deployment is already ${this.row.state}`);
    this.abort.abort(new DeploymentFailure(reason, 'aborted'));
  }

  private async run(): Promise<DeploymentRow> {
    const first = this.stored === null ? 0 : this.takeOver(this.stored);
    if (first < 0) {
      await this.rollBack(new DeploymentFailure(this.row.reason ?? 'rolling back', 'aborted'), true);
      return this.row;
    }
    if (this.stored === null) this.setState('progressing', `${this.row.kind} ${this.target.version} (release ${this.target.number}) by ${this.row.strategy}`);
    try {
      for (let index = first; index < this.steps.length; index++) {
        await this.gate();
        const step = this.steps[index]!;
        this.currentStep = index;
        const interrupted = this.stored?.[index]?.state === 'running' ? this.stored[index] : undefined;
        if ((step.kind === 'pause' || step.kind === 'analysis') && this.skipPauses) {
          this.ctx.store.updateStep(this.id, index, { state: 'skipped', finishedAt: now() });
          continue;
        }
        if (interrupted === undefined) {
          this.ctx.store.updateStep(this.id, index, { state: 'running', startedAt: now() });
          this.event('step.started', `step ${index + 1}/${this.steps.length}: ${describeStep(step, this.names)}`, { index });
          killIfFaultPoint(step, index, this.steps);
        } else {
          this.event('step.resumed', `step ${index + 1}/${this.steps.length} resumed after a controller restart: ${describeStep(step, this.names)}`, { index });
        }
        const detail = await this.withDeadline(step, index, () => this.execute(step, index, interrupted ?? null));
        this.ctx.store.updateStep(this.id, index, { state: 'done', detail, finishedAt: now() });
        if (step.kind === 'route') this.markRouted();
      }
      this.currentStep = this.steps.length;
      this.setState('succeeded', `${this.target.version} is stable`);
    } catch (err) {
      if (this.halted) return this.row;
      await this.rollBack(err);
    }
    return this.row;
  }

  /**
   * Runs one step. `interrupted` is the stored row of a step another controller began and did not finish:
   * each kind picks up from what that row and the instances say, so nothing is started or stopped twice.
   */
  private async execute(step: Step, index: number, interrupted: StepRow | null): Promise<string | null> {
    switch (step.kind) {
      case 'hook': {
        // A hook cut off halfway may have done part of its work; a preDeploy is not run twice behind the
        // user's back (rolling back is safe: nothing new serves yet). After promote there is no going
        // back: a postDeploy runs again (hooks are meant to be idempotent, see docs/CONFIG.md).
        if (interrupted !== null && step.hook === 'preDeploy') {
          throw new DeploymentFailure('the preDeploy hook was interrupted by a controller restart and may not have finished');
        }
        const ok = await this.ctx.runHook(step.hook, this.target, this.stable, this.id);
        if (!ok) throw new DeploymentFailure(`the ${step.hook} hook failed`);
        return null;
      }
      case 'start': {
        const started = await this.startInstances(step.release, step.count, index, interrupted);
        return started.map((i) => i.id).join(', ');
      }
      case 'route': {
        // Resumed after its undo was written, the split it found is in the undo; else nothing changed yet.
        const stored = interrupted?.undo as (UndoAction & { kind: 'route' }) | null | undefined;
        const before = stored?.before ?? this.snapshot();
        // The undo and the new split are one durable write: one disk sync before the proxies hear of it.
        await this.route(step.rotation, step.weights, step.preview, step.testers === true, () => this.recordUndo(index, { kind: 'route', before }));
        return null;
      }
      case 'stop': {
        const stopped = await this.stopOutOfRotation(step.release, step.count, index, interrupted);
        return `${stopped} stopped`;
      }
      case 'pause': {
        // A resumed pause waits only for what was left of it.
        const elapsed = interrupted?.startedAt ? Date.now() - Date.parse(interrupted.startedAt) : 0;
        await this.waitPause(step.durationMs === null ? null : Math.max(0, step.durationMs - elapsed));
        return null;
      }
      case 'promote': {
        this.recordUndo(index, { kind: 'set-stable', releaseId: this.stable?.id ?? null });
        this.ctx.setStable(this.target.id);
        this.event('deployment.stable', `${this.target.version} (release ${this.target.number}) is now the stable release`);
        return null;
      }
      case 'standby':
        if (this.stable) this.ctx.standby(this.stable, step.delayMs, this.id);
        return null;
      case 'analysis':
        return this.analyse(step.durationMs);
    }
  }

  /**
   * Verdicts every interval until the step's time is up with at least one pass (or promote). Failures
   * up to failureLimit roll back; inconclusive verdicts wait, up to inconclusiveLimit in a row, then
   * take the configured action.
   */
  private async analyse(durationMs: number | null): Promise<string> {
    const config = this.ctx.config().deploy.analysis;
    const fromSecond = Math.floor(Date.now() / 1000);
    const endsAt = durationMs === null ? null : Date.now() + durationMs;
    let passes = 0;
    let failures = 0;
    let unsure = 0;
    for (;;) {
      if ((await this.waitInterval(config.interval)) === 'promoted') return `promoted by user after ${passes} passing verdicts`;
      // A user pause holds the verdicts too: nothing is judged, so nothing rolls back while paused.
      await this.gate();
      const verdict = await this.ctx.analyze(this.target, this.stable, fromSecond);
      this.event(`analysis.${verdict.outcome}`, `analysis ${verdict.outcome}: ${verdict.summary}`, { verdict });
      if (verdict.outcome === 'fail') {
        if (++failures >= config.failureLimit) throw new DeploymentFailure(`canary analysis failed: ${verdict.summary}`);
      } else if (verdict.outcome === 'inconclusive') {
        if (++unsure >= config.inconclusiveLimit) {
          const what = `${unsure} inconclusive verdicts in a row`;
          if (config.onInconclusive === 'fail') throw new DeploymentFailure(`canary analysis failed: ${what} (${verdict.summary})`);
          if (config.onInconclusive === 'pause') {
            this.event('analysis.paused', `${what}: waiting for a person to promote or abort`);
            await this.waitPause(null);
            return `${what}; accepted by promote`;
          }
          this.event('analysis.pass', `${what}: passing as configured (onInconclusive: pass)`);
          passes++;
          unsure = 0;
        }
      } else {
        passes++;
        unsure = 0;
      }
      if (endsAt !== null && Date.now() >= endsAt && passes > 0) return `${passes} passing verdict${passes === 1 ? '' : 's'}`;
    }
  }

  /** Waits one analysis interval; promote ends it early. */
  private waitInterval(ms: number): Promise<'tick' | 'promoted'> {
    const { signal } = this.abort;
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.promoteWaiter = null;
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        cleanup();
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve('tick');
      }, ms);
      this.promoteWaiter = () => {
        cleanup();
        resolve('promoted');
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Starts `count` instances of a release and waits until all are healthy. The ids are written down as
   * the step's undo before any process starts, so a controller that takes over knows them; resumed, the
   * step keeps the listed instances that still run and starts only what is missing.
   */
  private async startInstances(role: ReleaseRole, count: number, index: number | null, interrupted: StepRow | null = null): Promise<Instance[]> {
    const release = this.releaseOf(role);
    const signal = index === null ? undefined : this.abort.signal;
    const config = this.ctx.config();
    const { supervisor } = this.ctx;
    const listed = interrupted === null ? [] : ((interrupted.undo as { instances?: string[] } | null)?.instances ?? []);
    const kept = listed.flatMap((id) => supervisor.get(id) ?? []);
    const fresh = supervisor.reserve(this.ctx.service, release, Math.max(0, count - kept.length));
    if (index !== null) this.recordUndo(index, { kind: 'stop-instances', instances: [...kept.map((i) => i.id), ...fresh.map((r) => r.id)] });
    const results = await Promise.allSettled([
      ...kept.map((i) => supervisor.whenReady(i, config, signal)),
      ...fresh.map((reserved) => supervisor.start(this.ctx.service, config, release, signal, reserved)),
    ]);
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stopInstances(started);
      this.abort.signal.throwIfAborted();
      const output = failed.reason instanceof InstanceStartError ? failed.reason.output : [];
      throw new DeploymentFailure(failed.reason instanceof Error ? failed.reason.message : String(failed.reason), 'failed', output);
    }
    return started;
  }

  /** Takes instances out of rotation (one swap), then drains and stops them. */
  private async stopInstances(instances: Instance[]): Promise<void> {
    const live = instances.filter((i) => i.isLive);
    const routing = this.ctx.routing();
    if (live.some((i) => routing.inRotation.has(i))) {
      const inRotation = new Set([...routing.inRotation].filter((i) => !live.includes(i)));
      await this.ctx.applyRouting({ ...routing, inRotation });
    }
    const config = this.ctx.config();
    await Promise.all(live.map((i) => this.ctx.supervisor.stop(i, config)));
  }

  /**
   * Drains and stops instances of a release that are out of rotation. The chosen ids are written down
   * first; resumed, the step stops those of them still running (and chooses none anew).
   */
  private async stopOutOfRotation(role: ReleaseRole, count: number | 'all', index: number, interrupted: StepRow | null): Promise<number> {
    // A first deployment has no stable release: nothing of it to stop.
    if (role === 'stable' && this.stable === null) return 0;
    const release = this.releaseOf(role);
    const routing = this.ctx.routing();
    let chosen: Instance[];
    let ids: string[];
    if (interrupted !== null && interrupted.undo !== null) {
      ids = (interrupted.undo as { instances: string[] }).instances;
      chosen = ids.flatMap((id) => this.ctx.supervisor.get(id) ?? []);
    } else {
      const idle = this.ctx.supervisor.instances({ releaseId: release.id }).filter((i) => !routing.inRotation.has(i));
      chosen = count === 'all' ? idle : idle.slice(0, count);
      ids = chosen.map((i) => i.id);
    }
    this.recordUndo(index, { kind: 'start-instances', role, instances: ids });
    await this.stopInstances(chosen);
    return ids.length;
  }

  /** Writes a step's undo to the store before the step acts, and keeps it for a rollback. */
  private recordUndo(index: number, action: UndoAction): void {
    this.ctx.store.updateStep(this.id, index, { undo: action });
    const existing = this.undo.findIndex((u) => u.index === index);
    if (existing >= 0) this.undo[existing] = { index, action };
    else this.undo.push({ index, action });
  }

  /**
   * Carries out one undo (a rollback, newest step first). `alsoWrite` is written first, together with a
   * traffic split when the undo is one (the swap back then waits for a single disk sync).
   */
  private async applyUndo(action: UndoAction, alsoWrite: () => void): Promise<void> {
    if (action.kind === 'route') return this.route(action.before.rotation, action.before.weights, action.before.preview, action.before.testers, alsoWrite);
    this.ctx.store.transaction(alsoWrite);
    switch (action.kind) {
      case 'stop-instances':
        return this.stopInstances(action.instances.flatMap((id) => this.ctx.supervisor.get(id) ?? []));
      case 'start-instances':
        await this.startInstances(action.role, action.instances.length, null);
        return;
      case 'set-stable':
        return this.ctx.setStable(action.releaseId);
    }
  }

  /**
   * A deployment another controller left in the store: the undo of every step done (or begun), and the
   * index to go on from; -1 when it was rolling back (the rollback goes on).
   */
  private takeOver(stored: readonly StepRow[]): number {
    for (const row of stored) {
      if ((row.state === 'done' || row.state === 'running' || row.state === 'failed') && row.undo !== null) {
        this.undo.push({ index: row.index, action: row.undo as UndoAction });
      }
    }
    this.event('deployment.resumed', `taken over by a new controller while ${this.row.state}`);
    if (this.row.state === 'rolling-back') return -1;
    const next = stored.findIndex((row) => row.state === 'pending' || row.state === 'running');
    if (this.row.state === 'pending') this.setState('progressing', `${this.row.kind} ${this.target.version} (release ${this.target.number}) by ${this.row.strategy}`);
    // Paused by a person (not at a pause step, which pauses again by itself): it stays paused.
    if (this.row.state === 'paused' && this.steps[next]?.kind !== 'pause' && this.steps[next]?.kind !== 'analysis') this.userPaused = true;
    return next < 0 ? stored.length : next;
  }

  /** Sets the service's split in one table swap: which instances are in rotation and the weights. */
  private async route(rotation: { target: RotationCount; stable: RotationCount }, weights: Weights, preview: boolean, testers: boolean, alsoWrite?: () => void): Promise<void> {
    const current = this.ctx.routing();
    const mine = new Set([this.target.id, this.stable?.id]);
    const inRotation = new Set([...current.inRotation].filter((i) => !mine.has(i.release.id)));
    for (const role of ['stable', 'target'] as const) {
      const release = role === 'target' ? this.target : this.stable;
      if (release === null) continue;
      const want = rotation[role];
      const live = this.ctx.supervisor.instances({ releaseId: release.id });
      // Keep instances already in rotation first, so a swap moves as few as possible.
      const ordered = [...live.filter((i) => current.inRotation.has(i)), ...live.filter((i) => !current.inRotation.has(i) && i.state === 'ready')];
      const chosen = want === 'all' ? ordered : ordered.slice(0, want);
      // Lost with their host (a cluster): replacements start, surge first, before the split moves.
      if (want !== 'all' && chosen.length < want && this.ctx.supervisor.replacesLost === true) {
        chosen.push(...(await this.startInstances(role, want - chosen.length, null)));
      }
      if (want !== 'all' && chosen.length < want) {
        throw new DeploymentFailure(`only ${chosen.length} ${role} instances are ready, ${want} are needed in rotation`);
      }
      for (const instance of chosen) inRotation.add(instance);
    }
    const weightMap = weights.mode === 'instances' ? null : new Map([[this.target.id, weights.target], ...(this.stable ? [[this.stable.id, 100 - weights.target] as [number, number]] : [])]);
    const rules = testers ? this.ctx.config().deploy.canary.route.map((rule) => ({ rule, releaseId: this.target.id })) : [];
    await this.ctx.applyRouting({ inRotation, weights: weightMap, previewRelease: preview ? this.target.id : null, rules }, alsoWrite);
  }

  private snapshot(): RouteSnapshot {
    const routing = this.ctx.routing();
    const count = (release: ReleaseRow | null) => (release === null ? 0 : [...routing.inRotation].filter((i) => i.release.id === release.id).length);
    const weights: Weights = routing.weights === null ? { mode: 'instances' } : { mode: 'percent', target: routing.weights.get(this.target.id) ?? 0 };
    return {
      rotation: { target: count(this.target), stable: count(this.stable) },
      weights,
      preview: routing.previewRelease === this.target.id,
      testers: (routing.rules?.length ?? 0) > 0,
    };
  }

  /** Undoes the steps done, newest first. `resumed`: a rollback another controller began goes on. */
  private async rollBack(err: unknown, resumed = false): Promise<void> {
    const failure = err instanceof DeploymentFailure ? err : this.abort.signal.reason instanceof DeploymentFailure ? this.abort.signal.reason : new DeploymentFailure(String(err instanceof Error ? err.message : err));
    const verb = failure.kind === 'aborted' ? 'aborted' : 'failed';
    const why = resumed ? failure.message : `${verb}: ${failure.message}`;
    const failedStep = this.currentStep >= 0 && this.currentStep < this.steps.length ? this.currentStep : -1;
    const settle = () => {
      if (resumed) return;
      if (failedStep >= 0) this.ctx.store.updateStep(this.id, failedStep, { state: 'failed', detail: failure.message, finishedAt: now() });
      this.setState('rolling-back', why, failure.output.length > 0 ? { output: failure.output } : undefined);
    };
    const undos = this.undo.sort((a, b) => b.index - a.index);
    try {
      for (const [i, undo] of undos.entries()) {
        const announce = () => this.event('step.undo', `undo step ${undo.index + 1}: ${describeUndo(undo.action)}`, { index: undo.index });
        // One durable write before the first undo (usually the traffic swap back): the failure, the new
        // state, the undo and the split it restores together, so the swap waits for one disk sync.
        await this.applyUndo(undo.action, i === 0 ? () => (settle(), announce()) : announce);
        this.ctx.store.updateStep(this.id, undo.index, { state: 'undone', finishedAt: now() });
      }
      if (undos.length === 0) settle();
      // Replacements for instances lost with their host are in no step's undo: they stop here.
      if (this.ctx.supervisor.replacesLost === true && this.target.id !== this.stable?.id) await this.stopInstances(this.ctx.supervisor.instances({ releaseId: this.target.id }));
    } catch (undoErr) {
      const message = undoErr instanceof Error ? undoErr.message : String(undoErr);
      this.setState('failed', `${why}; the rollback could not complete: ${message}`);
      return;
    }
    this.setState('rolled-back', `${why}; ${this.stable ? `${this.stable.version} serves all traffic` : 'nothing was serving before'}`);
    await this.ctx.runHook('onRollback', this.target, this.stable, this.id);
  }

  /** Waits while paused by the user; throws when aborted. */
  private async gate(): Promise<void> {
    this.abort.signal.throwIfAborted();
    while (this.userPaused) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.abort.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      this.wakeUp = null;
      this.abort.signal.throwIfAborted();
    }
  }

  private async waitPause(durationMs: number | null): Promise<void> {
    if (durationMs === null) this.setState('paused', 'waiting for promote');
    const { signal } = this.abort;
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        this.promoteWaiter = null;
        signal.removeEventListener('abort', onAbort);
      };
      const done = () => {
        cleanup();
        resolve();
      };
      const onAbort = () => {
        cleanup();
        reject(signal.reason as Error);
      };
      if (durationMs !== null) timer = setTimeout(done, durationMs);
      this.promoteWaiter = done;
      signal.addEventListener('abort', onAbort, { once: true });
    });
    if (this.row.state === 'paused' && !this.userPaused) this.setState('progressing', 'pause over');
  }

  /** progressDeadline bounds every step that is not a pause. */
  private async withDeadline<T>(step: Step, index: number, work: () => Promise<T>): Promise<T> {
    // Pauses and analyses have their own bounds (a person, or the analysis limits).
    if (step.kind === 'pause' || step.kind === 'analysis') return work();
    const deadline = this.ctx.config().deploy.progressDeadline;
    const timer = setTimeout(
      () => this.abort.abort(new DeploymentFailure(`progressDeadline passed: step ${index + 1} (${describeStep(step, this.names)}) made no progress for ${Math.round(deadline / 1000)} s`)),
      deadline,
    );
    try {
      return await work();
    } finally {
      clearTimeout(timer);
    }
  }

  private onCrash(instance: Instance, output: string[]): void {
    if (instance.release.id !== this.target.id || !this.isActive || this.row.state === 'rolling-back') return;
    const count = (this.crashes.get(instance) ?? 0) + 1;
    this.crashes.set(instance, count);
    if (count >= CRASH_LOOP_EXITS) {
      this.abort.abort(new DeploymentFailure(withLastLine(`crash loop: ${instance.id} crashed ${count} times during the deployment`, output), 'failed', output));
    }
  }

  private releaseOf(role: ReleaseRole): ReleaseRow {
    const release = role === 'target' ? this.target : this.stable;
    if (release === null) throw new DeploymentFailure(`the plan uses the stable release, but ${this.ctx.service} has none`);
    return release;
  }

  private setState(state: DeploymentState, message: string, data?: Record<string, unknown>): void {
    const finished = ['succeeded', 'rolled-back', 'failed'].includes(state);
    const reason = state === 'progressing' || state === 'paused' ? this.row.reason : message;
    this.row = this.ctx.store.updateDeployment(this.id, { state, reason, ...(finished ? { finishedAt: now() } : {}) });
    this.event(`deployment.${state}`, message, data);
  }

  private event(type: string, message: string, data?: Record<string, unknown>): void {
    this.ctx.store.addEvent({ service: this.ctx.service, deploymentId: this.id, type, message, data });
  }
}

function now(): string {
  return new Date().toISOString();
}

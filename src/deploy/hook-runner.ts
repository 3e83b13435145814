// Runs a service's deploy hooks (preDeploy, postDeploy, onRollback) with the release in the
// environment, and keeps what they printed in the events. A hook marked endsRollbackWindow ends the
// rollback window for its release before it starts (a crash mid-hook leaves it ended); a failed one
// is taken to have changed nothing, so it opens the window again.
import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/index.js';
import { runHook } from '../runtime/hooks.js';
import type { ReleaseRow, Store } from '../store/index.js';
import type { HookName } from './deployment-run.js';

export class HookRunner {
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** True when the hook passed or is not configured. */
  async run(service: string, config: ServiceConfig, hook: HookName, target: ReleaseRow, previous: ReleaseRow | null, deploymentId: number): Promise<boolean> {
    const spec = config.deploy.hooks[hook];
    if (spec === undefined) return true;
    const command = spec.run;
    const cwd = target.spec.kind === 'process' ? target.spec.cwd : process.cwd();
    const endedWindow = this.store.transaction(() => {
      this.store.addEvent({ service, deploymentId, type: `hook.${hook}.started`, message: `${hook}: ${command}` });
      return spec.endsRollbackWindow ? this.endRollbackWindow(service, hook, command, target, deploymentId) : false;
    });
    const result = await runHook({
      name: hook,
      command,
      cwd,
      env: {
        SWITCHYARD_SERVICE: service,
        SWITCHYARD_VERSION: target.version,
        SWITCHYARD_PREVIOUS_VERSION: previous?.version ?? '',
        SWITCHYARD_HOOK: hook,
      },
      timeoutMs: config.deploy.hooks.timeout,
    });
    const how = result.timedOut ? `timed out after ${config.deploy.hooks.timeout} ms` : result.ok ? 'passed' : `failed (exit ${result.exitCode ?? result.signal})`;
    this.store.addEvent({
      service,
      deploymentId,
      type: result.ok ? `hook.${hook}.passed` : `hook.${hook}.failed`,
      message: `${hook} ${how} in ${result.durationMs} ms`,
      data: { command, exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut, output: result.output },
    });
    if (!result.ok) this.log.warn({ service, hook, exitCode: result.exitCode }, 'hook failed');
    if (!result.ok && endedWindow) {
      this.store.transaction(() => {
        this.store.reopenRollbackWindow(target.id);
        this.store.addEvent({ service, deploymentId, type: 'release.rollback-window-reopened', message: `${hook} failed, so the rollback window before ${target.version} stays open` });
      });
    }
    return result.ok;
  }

  private endRollbackWindow(service: string, hook: HookName, command: string, target: ReleaseRow, deploymentId: number): boolean {
    const reason = `the ${hook} hook of ${target.version} (release ${target.number}) ended the rollback window at ${new Date().toISOString()} ("${command}")`;
    const ended = this.store.endRollbackWindow(service, target.id, reason);
    if (ended) {
      this.store.addEvent({ service, deploymentId, type: 'release.rollback-window-ended', message: `${reason}: a rollback to a release before it now needs force` });
    }
    return ended;
  }
}

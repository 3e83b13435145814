// Runs a service's deploy hooks (preDeploy, postDeploy, onRollback) with the release in the
// environment, and keeps what they printed in the events.
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
    const command = config.deploy.hooks[hook];
    if (command === undefined) return true;
    const cwd = target.spec.kind === 'process' ? target.spec.cwd : process.cwd();
    this.store.addEvent({ service, deploymentId, type: `hook.${hook}.started`, message: `${hook}: ${command}` });
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
    return result.ok;
  }
}

// What `deploy` and `rollback` do once the daemon accepted a deployment: say what it will do, follow it
// (live view, plain lines, or quietly for --json) and turn its end into the exit code.
import type { AdminClient } from '../admin-client.js';
import type { DeploymentView } from '../api-types.js';
import { CliError } from '../cli-error.js';
import { EXIT_DEPLOY_FAILED, EXIT_INTERRUPTED, EXIT_OK } from '../exit-codes.js';
import { deploymentTitle, outcomeLine, planLines } from '../render/deployment.js';
import { LiveView } from '../render/live-view.js';
import { PlainProgress } from '../render/plain-progress.js';
import { palette, terminal } from '../render/style.js';
import { followDeployment } from './follow-deployment.js';
import { silentReporter } from './reporter.js';

export interface ReportOptions {
  json: boolean;
  wait: boolean;
  /** The end states that count as success: `succeeded`, or `rolled-back` for a rollback that aborts a deployment. */
  success: readonly string[];
}

export async function reportDeployment(client: AdminClient, started: DeploymentView, options: ReportOptions): Promise<number> {
  const term = terminal();
  const p = palette(term.color);
  if (!options.wait) {
    if (options.json) console.log(JSON.stringify(started, null, 2));
    else {
      console.log(`${deploymentTitle(started)}: started`);
      for (const line of planLines(started)) console.log(line);
      console.log(`\`switchyard status ${started.service}\` shows how it goes`);
    }
    return EXIT_OK;
  }
  const json = options.json;
  if (!json && !term.live) {
    console.log(`${deploymentTitle(started)}, ${started.steps.length} steps:`);
    for (const line of planLines(started)) console.log(line);
  }
  const reporter = json ? silentReporter : term.live ? new LiveView(term) : new PlainProgress();
  const { detail, interrupted } = await followDeployment(client, started, reporter);
  if (json) console.log(JSON.stringify(detail, null, 2));
  if (interrupted) {
    console.error(`switchyard: stopped following ${detail.kind === 'rollback' ? 'rollback' : 'deployment'} ${detail.id}; it goes on in the daemon (\`switchyard status ${detail.service}\` shows it)`);
    return EXIT_INTERRUPTED;
  }
  if (options.success.includes(detail.state)) {
    if (!json) console.log(p.green(outcomeLine(detail)));
    return EXIT_OK;
  }
  throw new CliError(outcomeLine(detail), EXIT_DEPLOY_FAILED);
}

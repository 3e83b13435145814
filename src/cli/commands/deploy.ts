// `switchyard deploy SERVICE --version V`: start a deployment and, unless --no-wait, follow it to its end.
import { Command, InvalidArgumentError } from 'commander';
import { AdminClient, type AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import type { DeploymentView } from '../api-types.js';
import { reportDeployment } from '../follow/report-deployment.js';

interface DeployOptions extends AdminOptions {
  version: string;
  strategy?: string;
  env: Record<string, string>;
  target: string[];
  wait: boolean;
  json?: boolean;
}

export function deployCommand(): Command {
  return withAdminOptions(new Command('deploy'))
    .description('start a deployment; follow it live and exit 0 on success, 1 if it was rolled back')
    .argument('<service>', 'the service to deploy')
    .requiredOption('--version <label>', 'version label of the new release, e.g. v2')
    .option('--strategy <strategy>', "rolling, blue-green or canary (default: the service's)")
    .option('--env <KEY=VALUE>', 'environment for the new release, over the config (repeatable)', addEnv, {})
    .option('--target <host:port>', 'an instance of the new release, for services run elsewhere (repeatable)', (t: string, all: string[]) => [...all, t], [])
    .option('--no-wait', 'return as soon as the deployment started')
    .option('--json', 'print one JSON document at the end: the deployment with its events')
    .action(async (service: string, options: DeployOptions) => {
      process.exitCode = await deploy(service, options);
    });
}

async function deploy(service: string, options: DeployOptions): Promise<number> {
  const client = AdminClient.acting(options);
  const body = {
    version: options.version,
    ...(options.strategy === undefined ? {} : { strategy: options.strategy }),
    ...(Object.keys(options.env).length === 0 ? {} : { env: options.env }),
    ...(options.target.length === 0 ? {} : { targets: options.target }),
  };
  const started = await client.post<DeploymentView>(`/api/v1/services/${encodeURIComponent(service)}/deployments`, body);
  return reportDeployment(client, started, { json: options.json === true, wait: options.wait, success: ['succeeded'] });
}

function addEnv(pair: string, env: Record<string, string>): Record<string, string> {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got ${JSON.stringify(pair)}`);
  return { ...env, [pair.slice(0, eq)]: pair.slice(eq + 1) };
}

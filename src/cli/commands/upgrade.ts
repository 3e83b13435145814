// `switchyard upgrade`: replace the running daemon with the installed switchyard, without refusing a
// connection or restarting an app: the next generation takes the listening sockets and adopts the
// instances; the old one drains and exits. Follows it to the end: exit 0 once the new generation serves,
// 1 when it failed (the old one serves on, unchanged).
import { Command } from 'commander';
import type { DaemonView, UpgradeView } from '../../api/daemon-view.js';
import { AdminClient, type AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import { CliError } from '../cli-error.js';
import { EXIT_FAILED } from '../exit-codes.js';

/** The old generation waits up to 60 s per phase; this allows both and some. */
const FOLLOW_TIMEOUT_MS = 150_000;
const POLL_MS = 200;

export function upgradeCommand(): Command {
  return withAdminOptions(new Command('upgrade'))
    .description('replace the running daemon with the installed switchyard: sockets handed over, apps adopted, nothing refused')
    .option('--no-wait', 'return once the upgrade started')
    .action(async (options: AdminOptions & { wait: boolean }) => {
      const client = AdminClient.from(options);
      const before = await client.get<DaemonView>('/api/v1/daemon');
      const { upgrade } = await client.post<{ message: string; upgrade: UpgradeView }>('/api/v1/daemon/upgrade');
      console.log(`upgrading switchyard ${before.version} generation ${before.generation} → generation ${upgrade.generation}`);
      if (!options.wait) return;
      const ended = await follow(client, upgrade.generation);
      if (ended.upgrade.state === 'failed') {
        throw new CliError(`upgrade to generation ${upgrade.generation} failed: ${ended.upgrade.reason}; generation ${before.generation} serves on, unchanged`, EXIT_FAILED);
      }
      const seconds = ended.upgrade.finishedAt === null ? '?' : ((Date.parse(ended.upgrade.finishedAt) - Date.parse(ended.upgrade.startedAt)) / 1000).toFixed(1);
      const proxies = ended.view.processes.filter((p) => p.role === 'proxy').length;
      console.log(`generation ${ended.view.generation} serves (switchyard ${ended.view.version}, ${proxies} proxy process${proxies === 1 ? '' : 'es'}); took ${seconds} s; the previous generation drains and exits`);
    });
}

/** Polls the daemon until the upgrade to `generation` ended; the admin API may be briefly unreachable meanwhile. */
async function follow(client: AdminClient, generation: number): Promise<{ view: DaemonView; upgrade: UpgradeView }> {
  const deadline = Date.now() + FOLLOW_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const view = await client.get<DaemonView>('/api/v1/daemon', { timeoutMs: 5000 }).catch(() => null);
    const upgrade = view?.upgrade;
    if (view && upgrade && upgrade.generation === generation && upgrade.state !== 'in-progress') return { view, upgrade };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new CliError(`the upgrade to generation ${generation} did not end within ${FOLLOW_TIMEOUT_MS / 1000} s`, EXIT_FAILED);
}

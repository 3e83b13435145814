// `switchyard status [SERVICE]`: releases, instances, traffic split and the deployment in progress; in
// cluster mode also the hosts, the leader and each host's instances.
import { Command } from 'commander';
import { AdminClient, type AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import type { CertificateView, ServiceView } from '../api-types.js';
import type { DaemonView } from '../../api/daemon-view.js';
import { certificateStatus } from '../render/certificates.js';
import { clusterStatus } from '../render/cluster-status.js';
import { daemonStatus } from '../render/daemon-status.js';
import { serviceStatus } from '../render/service-status.js';
import { palette, terminal } from '../render/style.js';

export function statusCommand(): Command {
  return withAdminOptions(new Command('status'))
    .description('releases, instances (state, health, in-flight), traffic split, current deployment')
    .argument('[service]', 'one service (default: all)')
    .option('--json', 'print one JSON document')
    .action(async (service: string | undefined, options: AdminOptions & { json?: boolean }) => {
      const client = AdminClient.from(options);
      const services =
        service === undefined
          ? (await client.get<{ services: ServiceView[] }>('/api/v1/services')).services
          : [await client.get<ServiceView>(`/api/v1/services/${encodeURIComponent(service)}`)];
      const certificates = service === undefined ? (await client.get<{ certificates: CertificateView[] }>('/api/v1/certificates')).certificates : [];
      const daemon = await client.get<DaemonView>('/api/v1/daemon');
      if (options.json) {
        console.log(JSON.stringify(service === undefined ? { daemon, services, certificates } : { ...services[0], daemon }, null, 2));
        return;
      }
      const p = palette(terminal().color);
      if (service === undefined) {
        console.log(daemonStatus(p, daemon));
        if (daemon.cluster !== undefined) console.log(clusterStatus(p, daemon.cluster));
        console.log('');
      }
      console.log(services.length === 0 ? 'no services configured' : services.map((s) => serviceStatus(p, s)).join('\n\n'));
      if (certificates.length > 0) console.log(`\n${certificateStatus(p, certificates)}`);
    });
}

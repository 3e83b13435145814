// The routing table as plain data, for `GET /api/v1/routing`: what the data plane routes by, with the
// table's version. Pure, so a proxy worker process can compute it from its own table.
import type { WorkerRoutingView } from '../api/wire.js';
import type { RoutingTable } from './routing-table.js';

/**
 * @example describeTable(proxy.table, Date.now()).services.web.releases[0].endpoints[0].available // true
 */
export function describeTable(table: RoutingTable, now: number): WorkerRoutingView {
  const services: WorkerRoutingView['services'] = {};
  for (const service of table.services.values()) {
    services[service.name] = {
      releases: service.releases.map((release) => ({
        name: release.name,
        weight: release.weight,
        endpoints: release.endpoints.map((e) => ({
          id: e.id,
          address: e.address,
          healthy: e.healthy,
          draining: e.draining,
          available: e.isAvailable(now),
          inFlight: e.inFlight,
        })),
      })),
    };
  }
  return { version: table.version, services };
}

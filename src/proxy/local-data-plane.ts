// The data plane in the controller's own process: one Proxy, so a table is in force as soon as it is
// swapped in and the proxy's endpoints answer for themselves. Used where no worker processes run.
import type { DataPlane, EndpointReport } from './data-plane.js';
import type { DrainReport } from './drain.js';
import type { Proxy } from './proxy.js';
import type { TableSpec } from './routing-table.js';

const NOTHING_TO_DRAIN: DrainReport = { finished: 0, cut: 0, durationMs: 0 };

export class LocalDataPlane implements DataPlane {
  constructor(private readonly proxy: Proxy) {}

  publish(spec: TableSpec): Promise<number> {
    return Promise.resolve(this.proxy.swap(spec).version);
  }

  async drain(endpointId: string, timeoutMs: number): Promise<DrainReport> {
    const endpoint = this.proxy.endpoints.get(endpointId);
    if (endpoint === undefined) return NOTHING_TO_DRAIN;
    const report = await this.proxy.drain(endpoint, timeoutMs);
    await this.proxy.endpoints.retire(endpoint);
    return report;
  }

  endpoint(endpointId: string): EndpointReport {
    const endpoint = this.proxy.endpoints.get(endpointId);
    if (endpoint === undefined) return { inFlight: 0, ejected: false };
    return { inFlight: endpoint.inFlight, ejected: endpoint.ejectedUntil > Date.now() };
  }
}

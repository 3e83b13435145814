// What the control plane needs from the data plane, whichever processes it runs in: put a routing table
// in force (every process acknowledged it, invariant 10), drain an endpoint that left it, and what the
// proxies report of each endpoint. The controller writes tables through this and nothing else.
import type { DrainReport } from './drain.js';
import type { TableSpec } from './routing-table.js';

export interface EndpointReport {
  /** Requests and WebSockets in flight on the endpoint, summed over every proxy process. */
  inFlight: number;
  /** Ejected by passive outlier detection in at least one proxy process. */
  ejected: boolean;
}

export interface DataPlane {
  /**
   * Compiles and installs a table in every proxy process. Resolves with the table's version once every
   * process has acknowledged it (or a newer one): only then is it in force.
   */
  publish(spec: TableSpec): Promise<number>;
  /**
   * Lets an endpoint that is in no table any more finish its work: resolves when no proxy process has
   * anything in flight on it, after closing what was left at the deadline (WebSockets with 1001).
   */
  drain(endpointId: string, timeoutMs: number): Promise<DrainReport>;
  /** The latest report on an endpoint (zeros when no proxy has it). */
  endpoint(endpointId: string): EndpointReport;
}

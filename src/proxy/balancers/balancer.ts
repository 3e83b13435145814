// The balancer contract: choose one available endpoint of a release for a request.
import type { Endpoint } from '../endpoint.js';

export interface PickContext {
  /** Clock for slow start and ejection, read once per request. */
  now: number;
  /** 32-bit hash of the request's hash key (hash balancer only). */
  keyHash: number;
  /** Endpoints already tried by this request (retries); null on the first attempt. */
  exclude: readonly Endpoint[] | null;
}

export interface Balancer {
  /** An available endpoint, or undefined when none is. */
  pick(ctx: PickContext): Endpoint | undefined;
}

export function isCandidate(endpoint: Endpoint, ctx: PickContext): boolean {
  return endpoint.isAvailable(ctx.now) && (ctx.exclude === null || !ctx.exclude.includes(endpoint));
}

// Which upstream client this process uses, decided once: the lean client on Node's own parser when it
// passes its self-test, else undici's public dispatch (or when SWITCHYARD_UPSTREAM_CLIENT=undici).
import type { Pool } from 'undici';
import type { ConnectionOptions, Upstream } from './connection.js';
import { selfTestNativeParser } from './parser-self-test.js';
import { UpstreamPool } from './pool.js';
import { UndiciUpstream } from './undici-upstream.js';

export type UpstreamClientChoice = { kind: 'native' } | { kind: 'undici'; reason: string };

let choice: UpstreamClientChoice | undefined;

/** The client for plain HTTP requests in this process (the self-test runs on the first call). */
export function upstreamClient(): UpstreamClientChoice {
  if (choice !== undefined) return choice;
  if (process.env.SWITCHYARD_UPSTREAM_CLIENT === 'undici') return (choice = { kind: 'undici', reason: 'SWITCHYARD_UPSTREAM_CLIENT=undici' });
  const problem = selfTestNativeParser();
  return (choice = problem === null ? { kind: 'native' } : { kind: 'undici', reason: problem });
}

/** An endpoint's upstream client; `pool` is the endpoint's undici pool (it also serves upgrades). */
export function createUpstream(options: ConnectionOptions, pool: Pool): Upstream {
  return upstreamClient().kind === 'native' ? new UpstreamPool(options) : new UndiciUpstream(pool);
}

// `npm run bench:upstream`: the two upstream clients alone, without the proxy around them: switchyard's
// lean client (Node's internal llhttp parser, src/proxy/upstream/pool.ts) against the fallback it takes
// when that parser fails its self-test: undici's public Pool.dispatch behind UndiciUpstream.
// Both in this process, pinned to CPU 1 when possible, against the bench backend on CPU 0; closed loop,
// 50 requests in flight, rounds alternating; CPU per request from process.cpuUsage().
import { spawnSync } from 'node:child_process';
import { Pool } from 'undici';
import { UpstreamPool } from '../../src/proxy/upstream/pool.js';
import type { Upstream, UpstreamHandler, UpstreamRequest } from '../../src/proxy/upstream/connection.js';
import { UndiciUpstream } from '../../src/proxy/upstream/undici-upstream.js';
import { median } from './report.js';
import { canPin, stopAll } from './processes.js';
import { startBackend } from './targets.js';

const IN_FLIGHT = 50;
const REQUESTS = 100_000;
const ROUNDS = 5;
/** What a browser-like request carries through the proxy (X-Forwarded-* and the release header added). */
const HEADERS = [
  'host', 'example.com', 'user-agent', 'Mozilla/5.0 (X11; Linux x86_64) bench', 'accept', '*/*', 'accept-encoding', 'gzip, br',
  'x-forwarded-for', '127.0.0.1', 'x-forwarded-proto', 'http', 'x-request-id', '3f2a9c1e-7b4d-4e81-9a03-000000000001',
  'x-forwarded-host', 'example.com', 'x-switchyard-release', 'v1; cohort=stable',
];

type Client = 'lean' | 'undici';

/** Sends `total` requests with IN_FLIGHT at a time through `upstream`; resolves when all answered. */
function run(upstream: Upstream, total: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let done = 0;
    const request: UpstreamRequest = { method: 'GET', path: '/', headers: HEADERS, body: null, chunked: false, headersTimeout: 60_000, bodyTimeout: 60_000 };
    const handler: UpstreamHandler = {
      onConnect: () => {},
      onHeaders: () => true,
      onData: () => true,
      onComplete: () => {
        if (++done === total) resolve();
        else if (started < total) next();
      },
      onError: reject,
    };
    const next = (): void => {
      started++;
      upstream.dispatch(request, handler);
    };
    for (let i = 0; i < IN_FLIGHT; i++) next();
  });
}

async function main(): Promise<void> {
  const pinned = canPin() && spawnSync('taskset', ['-pc', '1', String(process.pid)]).status === 0;
  const backend = await startBackend(pinned ? 0 : undefined);
  const address = { host: '127.0.0.1', port: backend.port };
  const lean = new UpstreamPool({ ...address, connectTimeout: 5000, keepAliveTimeout: 60_000 });
  const undiciPool = new Pool(`http://127.0.0.1:${backend.port}`, { connections: IN_FLIGHT, pipelining: 1, keepAliveTimeout: 60_000 });
  const undici = new UndiciUpstream(undiciPool);
  console.log(`upstream clients, ${REQUESTS} GETs per round, ${IN_FLIGHT} in flight, ${ROUNDS} rounds; node ${process.version}${pinned ? '; client on CPU 1, backend on CPU 0' : ''}`);
  const results: Record<Client, { cpuUs: number[]; rps: number[] }> = { lean: { cpuUs: [], rps: [] }, undici: { cpuUs: [], rps: [] } };
  const upstreams: Record<Client, Upstream> = { lean, undici };
  for (const client of ['lean', 'undici'] as const) await run(upstreams[client], 20_000); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const client of round % 2 === 0 ? (['lean', 'undici'] as const) : (['undici', 'lean'] as const)) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await run(upstreams[client], REQUESTS);
      const used = process.cpuUsage(cpu);
      const seconds = (performance.now() - started) / 1000;
      results[client].cpuUs.push((used.user + used.system) / REQUESTS);
      results[client].rps.push(REQUESTS / seconds);
      console.log(`  round ${round + 1} ${client.padEnd(7)} ${((used.user + used.system) / REQUESTS).toFixed(1)} µs CPU/req, ${Math.round(REQUESTS / seconds)} rps`);
    }
  }
  for (const client of ['lean', 'undici'] as const) {
    console.log(`${client.padEnd(7)} median ${median(results[client].cpuUs).toFixed(1)} µs CPU per request, ${Math.round(median(results[client].rps))} rps`);
  }
  lean.destroy();
  await undiciPool.destroy();
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => stopAll());

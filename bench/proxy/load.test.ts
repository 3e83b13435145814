import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAutocannon, parseWrk, runLoad } from './load.js';
import { isInstalled } from './processes.js';
import { RESULT_MARKER } from './wrk-scripts.js';

describe('load generator results', () => {
  it('reads the JSON line the wrk Lua hook prints, among wrk’s own output', () => {
    const output = [
      'Running 3s test @ http://127.0.0.1:1/',
      '  2 threads and 50 connections',
      `${RESULT_MARKER}{"requests":30000,"durationUs":3000000,"p50Us":1500,"p99Us":4200,"maxUs":9000,"connect":0,"read":1,"write":0,"status":2,"timeout":3}`,
      'Requests/sec:  10000.00',
    ].join('\n');
    assert.deepEqual(parseWrk(output), { requests: 30000, durationS: 3, rps: 10000, p50Ms: 1.5, p99Ms: 4.2, errors: 4, badStatus: 2 });
  });

  it('reads autocannon --json output', () => {
    const json = { duration: 2, errors: 1, timeouts: 0, non2xx: 5, requests: { total: 4000 }, latency: { p50: 1, p99: 3 } };
    assert.deepEqual(parseAutocannon(`${JSON.stringify(json)}\n`), {
      requests: 4000,
      durationS: 2,
      rps: 2000,
      p50Ms: 1,
      p99Ms: 3,
      errors: 1,
      badStatus: 5,
    });
  });
});

describe('paced load', { skip: !isInstalled('wrk') && 'wrk not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-load-'));
  const server = createServer((_req, res) => res.end('ok'));
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds wrk to the offered rate instead of running flat out', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const result = await runLoad('wrk', { url, durationS: 2, connections: 10, threads: 2, rate: 1500, cpu: undefined, dir });
    assert.equal(result.errors, 0);
    // Flat out, this server answers many thousands per second; paced, wrk stays near the offered rate
    // (a loaded machine may fall short of it, never far above it).
    assert.ok(result.rps <= 1500 * 1.15 && result.rps >= 300, `achieved ${result.rps} rps for 1500 offered`);
  });
});

// The access log through a real proxy into a real file: one JSON line per request with the fields
// operators read, strings escaped whatever the client sent, lines written in order and none lost on close.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { AccessLog, openAccessLog } from '../../src/proxy/access-log.js';
import { LineWriter } from '../../src/proxy/log-writer.js';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { RawClient } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';

describe('access log', () => {
  let dir: string;
  let backend: Backend;
  let proxy: RunningProxy;
  let log: AccessLog;
  let file: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-access-log-'));
    file = join(dir, 'logs', 'access.log');
    backend = await startBackend('a');
    log = new AccessLog(openAccessLog(file));
    proxy = await startProxy({ services: [serviceSpec([backend.address])] }, { observer: log });
  });
  after(async () => {
    await proxy?.close();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one JSON line per request with what happened, strings escaped, in order, all of them by close()', async () => {
    for (let i = 0; i < 50; i++) {
      const res = await request(`${proxy.url}/item/${i}?q="quoted"\\`, { headers: { 'x-request-id': `id-${i}` } });
      await res.body.dump();
    }
    const client = await RawClient.connect(proxy.port);
    await client.write('GET /odd HTTP/1.1\r\nHost: we"ird\\host\r\n\r\n');
    assert.match(await client.until((text) => text.endsWith('a')), /^HTTP\/1\.1 200/);
    client.destroy();
    await log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 51);
    assert.deepEqual(
      lines.slice(0, 50).map((l) => l.path),
      Array.from({ length: 50 }, (_, i) => `/item/${i}?q=%22quoted%22\\`),
    );
    const first = lines[0]!;
    assert.equal(first.type, 'request');
    assert.equal(first.level, 30);
    assert.ok(typeof first.time === 'number' && Math.abs(first.time - Date.now()) < 60_000);
    assert.equal(first.method, 'GET');
    assert.equal(first.status, 200);
    assert.equal(first.service, 'web');
    assert.equal(first.release, 'v1');
    assert.equal(first.instance, backend.address);
    assert.equal(first.requestId, 'id-0');
    assert.equal(first.retries, 0);
    assert.equal(first.client, '127.0.0.1');
    assert.ok(typeof first.durationMs === 'number' && first.durationMs >= 0);
    assert.ok(typeof first.bytes === 'number' && first.bytes > 0);
    assert.equal(first.error, undefined, 'no error field for a success');
    assert.equal(lines[50]!.host, 'we"ird\\host', 'a Host with a quote and a backslash stays one valid JSON string');
  });

  it('writes lines of a quiet proxy within about a second, without waiting for a full buffer', async () => {
    const path = join(dir, 'quiet.log');
    const writer = openAccessLog(path);
    try {
      writer.write('{"a":1}\n');
      await waitFor(() => readFileSync(path, 'utf8') === '{"a":1}\n', { timeout: 5000, message: 'the line in the file' });
    } finally {
      await writer.close();
    }
  });

  it('drops lines (and says so) rather than grow without bound when the destination cannot keep up', async () => {
    // A FIFO nobody reads: the writer's first writes fill the pipe and then wait forever.
    const fifo = join(dir, 'stuck.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const problems: string[] = [];
    const writer = new LineWriter(openSync(fifo, 'w'), (message) => problems.push(message));
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 20_000; i++) writer.write(line);
    await waitFor(() => problems.some((p) => /lines dropped: the destination is not keeping up/.test(p)), { timeout: 5000, message: 'drops reported' });
    const dropped = Number(/^(\d+) lines dropped/.exec(problems.find((p) => /dropped/.test(p))!)?.[1]);
    // About 8 MB were kept (plus what the pipe took); the rest of the 20 MB was dropped.
    assert.ok(dropped > 10_000 && dropped < 13_000, `${dropped} lines dropped`);
    // Now the reader catches up: everything kept is written, then the writer closes.
    const buffer = Buffer.alloc(1 << 20);
    let read = 0;
    const draining = setInterval(() => {
      try {
        for (let n = readSync(reader, buffer); n > 0; n = readSync(reader, buffer)) read += n;
      } catch {
        // EAGAIN: the pipe is empty for now.
      }
    }, 5);
    try {
      await writer.close();
    } finally {
      clearInterval(draining);
    }
    try {
      for (let n = readSync(reader, buffer); n > 0; n = readSync(reader, buffer)) read += n;
    } catch {
      // Empty.
    }
    closeSync(reader);
    assert.equal(read, (20_000 - dropped) * 1024, 'every line kept was written whole');
  });
});

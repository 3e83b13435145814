// The upstream client against real sockets: framing of every kind of response, keep-alive reuse,
// request bodies, timeouts and broken apps.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { UpstreamHandler, UpstreamRequest } from './connection.js';
import { UpstreamPool } from './pool.js';
import { waitFor } from '../../../test/helpers/wait.js';

interface Outcome {
  status: number;
  headers: string[];
  body: string;
  error: (Error & { code?: string }) | null;
  connected: boolean;
}

function send(pool: UpstreamPool, request: Partial<UpstreamRequest> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { status: 0, headers: [], body: '', error: null, connected: false };
    const chunks: Buffer[] = [];
    const handler: UpstreamHandler = {
      onConnect: () => void (outcome.connected = true),
      onHeaders: (status, headers) => {
        outcome.status = status;
        outcome.headers = headers;
        return true;
      },
      onData: (chunk) => chunks.push(chunk) > 0,
      onComplete: () => resolve({ ...outcome, body: Buffer.concat(chunks).toString() }),
      onError: (error) => resolve({ ...outcome, body: Buffer.concat(chunks).toString(), error }),
    };
    pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'app'], body: null, chunked: false, headersTimeout: 5000, bodyTimeout: 5000, ...request }, handler);
  });
}

const servers: (Server | TcpServer)[] = [];
const pools: UpstreamPool[] = [];

async function listen<T extends Server | TcpServer>(server: T): Promise<{ server: T; pool: UpstreamPool }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.on('connection', (socket: Socket) => {
    openSockets.add(socket);
    socket.on('close', () => openSockets.delete(socket));
  });
  servers.push(server);
  const pool = new UpstreamPool({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, connectTimeout: 2000, keepAliveTimeout: 4000 });
  pools.push(pool);
  return { server, pool };
}

// Test servers that never read would keep their sockets open forever: close them at the end.
const openSockets = new Set<Socket>();

after(async () => {
  for (const pool of pools) pool.destroy();
  for (const socket of openSockets) socket.destroy();
  for (const server of servers) {
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('upstream pool', () => {
  it('reuses one keep-alive connection for sequential requests', async () => {
    let connections = 0;
    const { server, pool } = await listen(createServer((req, res) => res.end(`hello ${req.url}`)));
    server.on('connection', () => connections++);
    for (let i = 0; i < 20; i++) {
      const out = await send(pool, { path: `/${i}` });
      assert.equal(out.body, `hello /${i}`);
    }
    assert.equal(connections, 1);
    assert.equal(pool.size, 1);
  });

  it('reads chunked, close-delimited, HEAD, 204 and 304 responses with the right framing', async () => {
    const { pool } = await listen(
      createServer((req, res) => {
        if (req.url === '/chunked') {
          res.write('a');
          res.end('b');
        } else if (req.url === '/head') res.writeHead(200, { 'content-length': '99' }).end();
        else if (req.url === '/204') res.writeHead(204).end();
        else if (req.url === '/304') res.writeHead(304, { etag: 'x' }).end();
        else {
          res.shouldKeepAlive = false;
          res.useChunkedEncodingByDefault = false;
          res.writeHead(200, { connection: 'close' });
          res.end('until close');
        }
      }),
    );
    assert.equal((await send(pool, { path: '/chunked' })).body, 'ab');
    const head = await send(pool, { method: 'HEAD', path: '/head' });
    assert.deepEqual([head.status, head.body, head.error], [200, '', null]);
    assert.equal((await send(pool, { path: '/204' })).status, 204);
    assert.equal((await send(pool, { path: '/304' })).status, 304);
    assert.equal((await send(pool, { path: '/close' })).body, 'until close');
  });

  it('sends a streamed body with chunked framing and one with its content length', async () => {
    const { pool } = await listen(
      createServer((req, res) => {
        let size = 0;
        req.on('data', (c: Buffer) => (size += c.length));
        req.on('end', () => res.end(`${req.headers['transfer-encoding'] ?? 'length'} ${size}`));
      }),
    );
    const chunked = await send(pool, { method: 'POST', body: Readable.from([Buffer.alloc(1000), Buffer.alloc(24)]), chunked: true });
    assert.equal(chunked.body, 'chunked 1024');
    const sized = await send(pool, { method: 'POST', headers: ['host', 'app', 'content-length', '5'], body: Readable.from([Buffer.from('hello')]) });
    assert.equal(sized.body, 'length 5');
  });

  it('reports a refused connection before anything was written, so any request may be retried', async () => {
    const { server, pool } = await listen(createTcpServer());
    await new Promise((resolve) => server.close(resolve));
    servers.splice(servers.indexOf(server), 1);
    const out = await send(pool);
    assert.equal(out.error?.code, 'ECONNREFUSED');
    assert.equal(out.connected, false);
  });

  it('times out an app that accepts but never answers, and one whose body stalls', async () => {
    const sockets: Socket[] = [];
    const { pool } = await listen(createTcpServer((socket) => sockets.push(socket)));
    const silent = await send(pool, { headersTimeout: 200 });
    assert.equal(silent.error?.code, 'SY_ERR_HEADERS_TIMEOUT');
    const { pool: stalling } = await listen(createServer((_req, res) => res.writeHead(200, { 'content-length': '10' }).write('12345')));
    const stalled = await send(stalling, { bodyTimeout: 200 });
    assert.equal(stalled.error?.code, 'SY_ERR_BODY_TIMEOUT');
    for (const s of sockets) s.destroy();
  });

  it('fails a garbage response as a bad response and a cut body as a reset', async () => {
    const { pool } = await listen(createTcpServer((socket) => socket.end('HELLO\r\n\r\n')));
    const garbage = await send(pool);
    assert.ok(garbage.error?.code?.startsWith('HPE_'), garbage.error?.code);
    const { pool: cutting } = await listen(
      createTcpServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial'))),
    );
    const cut = await send(cutting);
    assert.equal(cut.status, 200);
    assert.ok(cut.error !== null, 'a body shorter than its Content-Length is an error, not a complete response');
  });

  it('closes a connection idle for keepAliveTimeout, not before', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const pool = new UpstreamPool({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, connectTimeout: 2000, keepAliveTimeout: 400 });
    pools.push(pool);
    assert.equal((await send(pool)).body, 'ok');
    const idleSince = Date.now();
    assert.equal(pool.size, 1);
    await waitFor(() => pool.size === 0, { timeout: 3000, interval: 10, message: 'the idle connection to be closed' });
    assert.ok(Date.now() - idleSince >= 390, `closed after ${Date.now() - idleSince} ms`);
  });

  it('never sends on a connection idle for keepAliveTimeout, even when a stalled event loop ran no sweep to close it', async () => {
    let connections = 0;
    const server = createServer((_req, res) => res.end('ok'));
    server.keepAliveTimeout = 60_000;
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const pool = new UpstreamPool({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, connectTimeout: 2000, keepAliveTimeout: 300 });
    pools.push(pool);
    assert.equal((await send(pool)).body, 'ok');
    assert.equal(connections, 1);
    // The loop is blocked past keepAliveTimeout (a GC pause, a busy machine); the next request comes at once.
    const blockedUntil = performance.now() + 600;
    while (performance.now() < blockedUntil);
    assert.equal((await send(pool)).body, 'ok');
    assert.equal(connections, 2, 'the second request went on a new connection, not on the one past its keep-alive time');
  });

  it('passes a Content-Length body on in the socket\'s own buffers, however it is split, and reuses the connection', async () => {
    let connections = 0;
    const head = 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n';
    const { pool } = await listen(
      createTcpServer((socket) => {
        connections++;
        let answered = 0;
        socket.on('data', () => {
          answered++;
          // The head and the body's first bytes in one segment, the rest in two more.
          socket.write(`${head}01234`);
          setImmediate(() => socket.write('56'));
          setTimeout(() => socket.write(answered === 1 ? '789' : 'abc'), 20);
        });
      }),
    );
    const firstChunks: Buffer[] = [];
    const first = await new Promise<string>((resolve, reject) => {
      pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'app'], body: null, chunked: false, headersTimeout: 5000, bodyTimeout: 5000 }, {
        onConnect: () => {},
        onHeaders: () => true,
        onData: (chunk) => firstChunks.push(chunk) > 0,
        onComplete: () => resolve(Buffer.concat(firstChunks).toString()),
        onError: reject,
      });
    });
    assert.equal(first, '0123456789');
    // Not a copy: the first body bytes are a view into the very buffer the head came in.
    assert.ok(firstChunks[0]!.byteOffset >= head.length, `the body's first chunk starts at byte ${firstChunks[0]!.byteOffset} of its buffer`);
    assert.equal((await send(pool)).body, '0123456abc');
    assert.equal(connections, 1, 'the second response came on the same connection');
  });

  it('does not reuse a connection whose app sent more than its Content-Length', async () => {
    let connections = 0;
    const { pool } = await listen(
      createTcpServer((socket) => {
        connections++;
        socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA'));
      }),
    );
    assert.deepEqual([(await send(pool)).body, (await send(pool)).body], ['ok', 'ok']);
    assert.equal(connections, 2, 'the bytes past the declared length made the first connection untrusted');
  });

  it('ignores informational responses and delivers the final one', async () => {
    const { pool } = await listen(
      createTcpServer((socket) =>
        socket.once('data', () => socket.write('HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')),
      ),
    );
    const out = await send(pool);
    assert.deepEqual([out.status, out.body], [200, 'ok']);
  });
});

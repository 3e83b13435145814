// Example app for switchyard demos and tests: answers with its version, has /healthz, and takes knobs
// from the environment to misbehave on purpose. Plain Node, no dependencies.
//   PORT, HOST            where to listen (switchyard sets both)
//   APP_VERSION           reported in every response (default "dev")
//   START_DELAY_MS        wait this long before listening (a slow boot)
//   CRASH_ON_START=1      exit(1) at once (a release that cannot start)
//   FAILURE_RATE=0.2      share of requests answered with 500 (not /upload, /events or /ws)
//   LATENCY_MS=50         added to every response (except /healthz, /events and /ws)
//   HEALTHY=0             /healthz answers 503 (never becomes healthy)
//   LIFECYCLE_FILE=path   on exit, append one JSON line: when SIGTERM came, what was in flight then,
//                         and when the last request arrived and was answered (invariant 2's evidence)
// Routes: /healthz; /upload (reads the body, answers its byte count); /events?seconds=N (Server-Sent
// Events: a message every 200 ms for N seconds, then an `end` event); /ws (WebSocket echo); anything
// else answers {version, pid, path}, after `?sleep=MS` when given. Every response, SSE stream and
// WebSocket handshake starts with x-app-version and x-app-pid headers, so a client knows which process
// served it even when the body never arrives.
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const env = process.env;
const version = env.APP_VERSION ?? 'dev';
const port = Number(env.PORT ?? 3000);
const host = env.HOST ?? '127.0.0.1';
const failureRate = Number(env.FAILURE_RATE ?? 0);
const latencyMs = Number(env.LATENCY_MS ?? 0);
const SSE_INTERVAL_MS = 200;
const streamHeaders = { 'x-app-version': version, 'x-app-pid': String(process.pid) };

if (env.CRASH_ON_START === '1') {
  console.error(`app ${version}: crashing on start as asked (CRASH_ON_START=1)`);
  process.exit(1);
}

/** HTTP requests not yet answered (SSE streams included); WebSockets are closed only once this is 0. */
let inFlight = 0;
let stopping = false;
/** Responses not yet sent, so a SIGTERM can make them close their connections too. */
const answering = new Set();
/** For LIFECYCLE_FILE: Date.now() of the last request's arrival and answer, and of SIGTERM. */
const lifecycle = { pid: process.pid, version, sigtermAt: null, inFlightAtSigterm: null, webSocketsAtSigterm: null, lastRequestAt: null, lastAnsweredAt: null };

const server = createServer((req, res) => {
  inFlight++;
  // Health checks are the proxy's business, not traffic: they do not count as served requests.
  const traffic = !req.url?.startsWith('/healthz');
  if (traffic) lifecycle.lastRequestAt = Date.now();
  for (const [name, value] of Object.entries(streamHeaders)) res.setHeader(name, value);
  // After SIGTERM every answer closes its connection, so keep-alive clients move on (or reconnect).
  if (stopping) res.shouldKeepAlive = false;
  answering.add(res);
  res.once('close', () => {
    answering.delete(res);
    inFlight--;
    if (traffic) lifecycle.lastAnsweredAt = Date.now();
    if (stopping) closeWebSocketsWhenIdle();
  });
  const url = new URL(req.url ?? '/', 'http://app');
  if (url.pathname === '/healthz') {
    const healthy = env.HEALTHY !== '0';
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: healthy, version }));
    return;
  }
  if (url.pathname === '/events') return serveEvents(req, res, Number(url.searchParams.get('seconds') ?? 5));
  if (url.pathname === '/upload') return serveUpload(req, res);
  const delay = latencyMs + Number(url.searchParams.get('sleep') ?? 0);
  const respond = () => {
    if (Math.random() < failureRate) {
      res.writeHead(500, { 'content-type': 'application/json', 'x-app-version': version });
      res.end(JSON.stringify({ error: 'injected failure', version }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-app-version': version });
    res.end(JSON.stringify({ version, pid: process.pid, path: url.pathname }));
  };
  // Read the whole body first so uploads are consumed like a real app would.
  req.resume();
  req.on('end', () => (delay > 0 ? setTimeout(respond, delay) : respond()));
});

/** Counts the request body's bytes and answers {version, pid, bytes}; the head goes out at once, so a
 * client knows which process took its upload even if the body is cut. */
function serveUpload(req, res) {
  let bytes = 0;
  res.writeHead(200, { 'content-type': 'application/json', 'x-app-version': version });
  res.flushHeaders();
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    const respond = () => res.end(JSON.stringify({ version, pid: process.pid, bytes }));
    if (latencyMs > 0) setTimeout(respond, latencyMs);
    else respond();
  });
}

/** `data: {"i":k}` every 200 ms for `seconds`, then `event: end` with the count, then the end. */
function serveEvents(req, res, seconds) {
  const total = Math.max(1, Math.round((Number.isFinite(seconds) ? seconds : 5) * (1000 / SSE_INTERVAL_MS)));
  req.resume();
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...streamHeaders });
  let sent = 0;
  const tick = () => {
    if (res.destroyed) return;
    if (sent < total) {
      res.write(`data: ${JSON.stringify({ i: sent, version, pid: process.pid })}\n\n`);
      sent++;
      timer = setTimeout(tick, SSE_INTERVAL_MS);
      return;
    }
    res.end(`event: end\ndata: ${JSON.stringify({ count: sent, version })}\n\n`);
  };
  let timer = setTimeout(tick, 0);
  res.once('close', () => clearTimeout(timer));
}

// --- WebSocket echo on /ws: a minimal RFC 6455 server (handshake and frame codec) ---
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_FRAME = 16 * 1024 * 1024;
/** Open WebSocket sessions, each with a function that closes it with a code. */
const sockets = new Map();

server.on('upgrade', (req, socket, head) => {
  const key = req.headers['sec-websocket-key'];
  const url = new URL(req.url ?? '/', 'http://app');
  if (url.pathname !== '/ws' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || typeof key !== 'string' || stopping) {
    socket.end(`HTTP/1.1 ${stopping ? 503 : 400} Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    return;
  }
  const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
  const extra = Object.entries(streamHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n${extra}\r\n`);
  socket.setNoDelay(true);
  const session = { closeSent: false };
  const close = (code) => {
    if (session.closeSent || socket.destroyed) return;
    session.closeSent = true;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    socket.write(encodeFrame(0x8, payload));
    // The peer answers with its own close frame; do not wait for it forever.
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  sockets.set(socket, close);
  socket.on('close', () => {
    sockets.delete(socket);
  });
  socket.on('error', () => socket.destroy());
  let buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0);
  const onData = (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      const frame = decodeFrame(buffer);
      if (frame === null) return;
      if (frame === 'too-big') return close(1009);
      buffer = buffer.subarray(frame.length);
      if (frame.opcode === 0x8) {
        // Answer a close with the same code (or 1000), then end.
        const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1000;
        if (!session.closeSent) close(code === 1005 || code === 1006 ? 1000 : code);
        socket.end();
        return;
      }
      if (frame.opcode === 0x9) socket.write(encodeFrame(0xa, frame.payload));
      else if (frame.opcode === 0xa) continue;
      else if (!session.closeSent) socket.write(encodeFrame(frame.opcode, frame.payload, frame.fin));
    }
  };
  socket.on('data', onData);
  if (buffer.length > 0) {
    const first = buffer;
    buffer = Buffer.alloc(0);
    onData(first);
  }
});

/** One client frame (masked) from the start of `buf`, or null while incomplete. */
function decodeFrame(buf) {
  if (buf.length < 2) return null;
  const fin = (buf[0] & 0x80) !== 0;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let len = buf[1] & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    offset = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    const big = buf.readBigUInt64BE(2);
    if (big > BigInt(MAX_FRAME)) return 'too-big';
    len = Number(big);
    offset = 10;
  }
  if (len > MAX_FRAME) return 'too-big';
  const maskAt = offset;
  if (masked) offset += 4;
  if (buf.length < offset + len) return null;
  const payload = Buffer.from(buf.subarray(offset, offset + len));
  if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskAt + (i % 4)];
  return { fin, opcode, payload, length: offset + len };
}

/** A server frame (never masked). */
function encodeFrame(opcode, payload, fin = true) {
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (len < 126) head[1] = len;
  else if (len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** After SIGTERM: once no HTTP request is in flight, every WebSocket gets close 1001 (going away). */
function closeWebSocketsWhenIdle() {
  if (inFlight > 0) return;
  for (const close of sockets.values()) close(1001);
}

// Graceful stop on SIGTERM: finish in-flight requests, then close WebSockets with 1001, then exit.
process.on('SIGTERM', () => {
  if (lifecycle.sigtermAt === null) {
    lifecycle.sigtermAt = Date.now();
    // Health checks in flight are not traffic.
    lifecycle.inFlightAtSigterm = [...answering].filter((r) => !r.req.url?.startsWith('/healthz')).length;
    lifecycle.webSocketsAtSigterm = sockets.size;
  }
  stopping = true;
  for (const res of answering) res.shouldKeepAlive = false;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  closeWebSocketsWhenIdle();
});

if (env.LIFECYCLE_FILE) {
  process.on('exit', () => appendFileSync(env.LIFECYCLE_FILE, `${JSON.stringify(lifecycle)}\n`));
}

setTimeout(() => {
  server.listen(port, host, () => console.log(`app ${version} listening on ${host}:${port}`));
}, Number(env.START_DELAY_MS ?? 0));

// The upstream every target proxies to: a minimal keep-alive node:http server answering `GET /` with
// ~100 bytes (and `GET /big` with 256 KB). Runs as its own process (pinned by the harness) and prints `listening <port>` when ready.
import { createServer } from 'node:http';

// A fixed, preallocated body so the backend's own cost per request is as small and stable as we can make it.
const BODY = Buffer.from('switchyard bench backend: hello from 127.0.0.1, this body is about one hundred bytes long.\n');
const HEADERS = { 'content-type': 'text/plain', 'content-length': String(BODY.length) };

// `GET /big`: 256 KB in one write, what the slow-readers bench has its attackers download.
const BIG = Buffer.alloc(256 * 1024, 0x62);
const BIG_HEADERS = { 'content-type': 'application/octet-stream', 'content-length': String(BIG.length) };

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/') {
    res.writeHead(200, HEADERS);
    res.end(BODY);
    return;
  }
  if (req.method === 'GET' && req.url === '/big') {
    res.writeHead(200, BIG_HEADERS);
    res.end(BIG);
    return;
  }
  res.writeHead(404, { 'content-length': '0' });
  res.end();
});

// Proxies keep pooled upstream connections idle between runs; node's 5 s default would close them
// under the proxies and turn the next run's first requests into reconnects.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.requestTimeout = 0;

const port = Number(process.argv[2] ?? '0');
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('backend: no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

// Example app for switchyard demos and tests: answers with its version, has /healthz, and takes knobs
// from the environment to misbehave on purpose. Plain Node, no dependencies.
//   PORT, HOST            where to listen (switchyard sets both)
//   APP_VERSION           reported in every response (default "dev")
//   START_DELAY_MS        wait this long before listening (a slow boot)
//   CRASH_ON_START=1      exit(1) at once (a release that cannot start)
//   FAILURE_RATE=0.2      share of requests answered with 500
//   LATENCY_MS=50         added to every response (except /healthz)
//   HEALTHY=0             /healthz answers 503 (never becomes healthy)
import { createServer } from 'node:http';

const env = process.env;
const version = env.APP_VERSION ?? 'dev';
const port = Number(env.PORT ?? 3000);
const host = env.HOST ?? '127.0.0.1';
const failureRate = Number(env.FAILURE_RATE ?? 0);
const latencyMs = Number(env.LATENCY_MS ?? 0);

if (env.CRASH_ON_START === '1') {
  console.error(`app ${version}: crashing on start as asked (CRASH_ON_START=1)`);
  process.exit(1);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://app');
  if (url.pathname === '/healthz') {
    const healthy = env.HEALTHY !== '0';
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: healthy, version }));
    return;
  }
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

// Graceful stop on SIGTERM: finish in-flight requests, then exit.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});

setTimeout(() => {
  server.listen(port, host, () => console.log(`app ${version} listening on ${host}:${port}`));
}, Number(env.START_DELAY_MS ?? 0));

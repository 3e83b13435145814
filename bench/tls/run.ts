// `npm run bench:tls`: TLS handshakes and TLS + HTTP/2 throughput, switchyard against nginx, both with
// the same certificate (ECDSA P-256, made here), the same ciphers and the same backend, measured
// with h2load (Debian nghttp2-client). Each proxy runs as one process pinned to CPU 1; h2load to CPU 0.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, isInstalled, spawnPinned, stopAll, waitForLine, type Spawned } from '../proxy/processes.js';
import { median } from '../proxy/report.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const BACKEND = fileURLToPath(new URL('../proxy/backend.ts', import.meta.url));
const CIPHERS = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';

interface Figures {
  reqPerSec: number;
  connectMeanMs: number;
  failed: number;
  /** h2load's own lines about what failed (requests, status codes, errors), when anything did. */
  failures: string[];
}

const ROUNDS = 3;

/** Runs h2load (bounded by request count) and reads its summary. */
function h2load(url: string, args: string[]): Figures {
  const cmd = [...(isInstalled('taskset') ? ['taskset', '-c', '0'] : []), 'h2load', ...args, url];
  const out = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 300_000 }).stdout;
  const reqPerSec = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const connect = /time for connect:\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1] ?? 'NaN';
  const connectMeanMs = connect.endsWith('us') ? Number.parseFloat(connect) / 1000 : Number.parseFloat(connect);
  const failed = Number(/(\d+) failed/.exec(out)?.[1] ?? NaN);
  if (Number.isNaN(reqPerSec)) throw new Error(`h2load gave no figures:\n${out}`);
  const failures = failed === 0 ? [] : out.split('\n').filter((line) => /^(requests|status codes|traffic):|error|fail|timeout/i.test(line));
  return { reqPerSec, connectMeanMs, failed, failures };
}

async function waitForTls(port: number, proc: Spawned): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const r = spawnSync('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '--resolve', `bench.test:${port}:127.0.0.1`, `https://bench.test:${port}/`], { encoding: 'utf8' });
    if (r.stdout === '200') return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${proc.name} did not answer over TLS:\n${proc.output()}`);
}

async function main(): Promise<void> {
  for (const tool of ['h2load', 'nginx', 'openssl', 'curl']) {
    if (!isInstalled(tool) && !isInstalled(`/usr/sbin/${tool}`)) throw new Error(`${tool} is needed: apt-get install -y nghttp2-client nginx openssl curl`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=bench.test', '-addext', 'subjectAltName=DNS:bench.test'], { stdio: 'ignore' });
    const backendPort = await freePort();
    const backend = spawnPinned('backend', 1, process.execPath, ['--import', 'tsx', BACKEND, String(backendPort)]);
    await waitForLine(backend, /listening/, 20_000);
    const [syPort, adminPort, nginxPort] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(
      join(dir, 'switchyard.yaml'),
      [
        'proxy:',
        '  accessLog: { enabled: false }',
        `  listen: [ { address: 127.0.0.1:${syPort}, tls: { certificates: [ { cert: cert.pem, key: key.pem } ] } } ]`,
        `admin: { listen: 127.0.0.1:${adminPort} }`,
        `state: ${join(dir, 'state')}`,
        'services:',
        `  bench: { targets: [127.0.0.1:${backendPort}], health: { interval: 1s } }`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off; master_process off; worker_processes 1; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'nginx.err')};
events { worker_connections 4096; }
http {
  access_log off;
  # nginx ends a connection after 1,000 requests by default (GOAWAY on h2); h2load does not reconnect,
  # so the rest would count as failed. Switchyard sets no such cap.
  keepalive_requests 1000000;
  upstream app { server 127.0.0.1:${backendPort}; keepalive 64; }
  ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers ${CIPHERS}; ssl_prefer_server_ciphers off;
  ssl_session_cache shared:SSL:10m; ssl_session_timeout 1d;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server {
    listen 127.0.0.1:${nginxPort} ssl http2;
    ssl_certificate ${join(dir, 'cert.pem')}; ssl_certificate_key ${join(dir, 'key.pem')};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
    );
    const switchyard = spawnPinned('switchyard', 1, process.execPath, [CLI, 'up', '-c', join(dir, 'switchyard.yaml')]);
    const nginx = spawnPinned('nginx', 1, isInstalled('nginx') ? 'nginx' : '/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
    await waitForTls(syPort, switchyard);
    await waitForTls(nginxPort, nginx);
    const url = (port: number) => `https://127.0.0.1:${port}/`;
    // Handshakes: every client opens its own TLS connection (full handshake, no resumption) for one
    // request; 20 rounds of 100 at once stay below the listen backlog.
    const handshakes = ['-n', '100', '-c', '100', '-m', '1', '-t', '1'];
    // Throughput: 20 h2 connections, 10 streams each, 60,000 requests.
    const throughput = ['-n', '60000', '-c', '20', '-m', '10', '-t', '1'];
    const targets = [['switchyard', syPort], ['nginx', nginxPort]] as const;
    for (const [, port] of targets) h2load(url(port), ['-n', '2000', '-c', '20', '-m', '10']); // warm-up
    // Rounds alternate between the proxies, so a busy moment of the machine falls on both alike.
    const results = new Map<string, { handshakes: Figures[]; throughput: Figures[] }>(targets.map(([name]) => [name, { handshakes: [], throughput: [] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, port] of targets) {
        const figures = results.get(name)!;
        for (let i = 0; i < 7; i++) figures.handshakes.push(h2load(url(port), handshakes));
        figures.throughput.push(h2load(url(port), throughput));
      }
    }
    console.log(`TLS 1.3, ECDSA P-256, one proxy process on CPU 1, h2load on CPU 0, medians of ${ROUNDS} alternating rounds (${new Date().toISOString()})`);
    console.log('| proxy | new TLS connections/s (1 request each) | mean connect+handshake | TLS + h2 req/s (20 conns × 10 streams) | failed |');
    console.log('|---|---|---|---|---|');
    for (const [name, { handshakes: hs, throughput: tp }] of results) {
      const failed = [...hs, ...tp].reduce((n, r) => n + r.failed, 0);
      console.log(`| ${name} | ${median(hs.map((r) => r.reqPerSec)).toFixed(0)} | ${median(hs.map((r) => r.connectMeanMs)).toFixed(2)} ms | ${median(tp.map((r) => r.reqPerSec)).toFixed(0)} | ${failed} |`);
    }
    for (const [name, { handshakes: hs, throughput: tp }] of results) {
      for (const r of [...hs, ...tp].filter((x) => x.failed > 0)) console.log(`${name}: ${r.failed} failed\n  ${r.failures.join('\n  ')}`);
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  await stopAll();
  process.exitCode = 1;
});

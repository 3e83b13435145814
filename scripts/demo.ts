// `npm run demo`, the main job: switchyard runs a Node app (2 instances) and a Python app under steady
// load, then ships a rolling deploy v1→v2, a blue-green v2→v3, and a broken v4 that is rolled back by
// itself; then switchyard upgrades itself under the same load (a new generation takes the sockets and
// adopts the apps); it prints what every request saw. Zero failed requests is the point.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool, request } from 'undici';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'switchyard-demo-'));
const [proxyPort, adminPort] = await Promise.all([freePort(), freePort()]);
const admin = `http://127.0.0.1:${adminPort}`;

writeFileSync(
  join(dir, 'switchyard.yaml'),
  `proxy:
  listen: 127.0.0.1:${proxyPort}
  accessLog: { enabled: false }
admin:
  listen: 127.0.0.1:${adminPort}
state: ${dir}/state
services:
  web:
    run:
      command: node ${root}/examples/node-app/server.mjs
      env: { APP_VERSION: "{version}" }
      version: v1
    instances: 2
    health: { path: /healthz, interval: 250ms, startTimeout: 8s }
    drain: { timeout: 5s }
    stop: { timeout: 3s }
    deploy:
      blueGreen: { scaleDownDelay: 3s }
  api:
    match: { pathPrefix: /api, stripPrefix: true }
    run:
      command: [python3, ${root}/examples/python-app/app.py]
      env: { APP_VERSION: "{version}" }
      version: v1
    health: { path: /healthz, interval: 250ms }
    drain: { timeout: 5s }
`,
);

const daemon = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'up', '-c', join(dir, 'switchyard.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
let daemonLog = '';
daemon.stderr.on('data', (d: Buffer) => (daemonLog += d.toString()));
/** After an upgrade the daemon is a newer keeper than the one started here. */
let keeperPid = daemon.pid ?? 0;
const cleanup = () => {
  try {
    process.kill(keeperPid, 'SIGTERM');
  } catch {
    // Already gone.
  }
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

type Outcome = { ok: number; failed: number; byVersion: Map<string, number>; failures: string[] };
const traffic: Record<'web' | 'api', Outcome> = {
  web: { ok: 0, failed: 0, byVersion: new Map(), failures: [] },
  api: { ok: 0, failed: 0, byVersion: new Map(), failures: [] },
};
const deploys: { what: string; state: string; seconds: number; reason: string | null }[] = [];
let upgraded = false;

try {
  await waitFor(async () => (await request(`${admin}/healthz`)).statusCode === 200, 30_000, 'the daemon to start');
  console.log(`switchyard is up: proxy http://127.0.0.1:${proxyPort}, admin ${admin}\n`);
  const stop = new AbortController();
  const load = startLoad(`http://127.0.0.1:${proxyPort}`, stop.signal);
  await pause(1500);
  await deploy('web', { version: 'v2' }, 'web: rolling v1 → v2');
  await deploy('api', { version: 'v2' }, 'api (Python): rolling v1 → v2');
  await deploy('web', { version: 'v3', strategy: 'blue-green' }, 'web: blue-green v2 → v3');
  await deploy('web', { version: 'v4', env: { CRASH_ON_START: '1' } }, 'web: broken v4 (crashes on start)');
  await upgrade();
  await pause(1500);
  stop.abort();
  await load;
  report();
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  console.error(daemonLog.split('\n').slice(-20).join('\n'));
  process.exitCode = 1;
} finally {
  cleanup();
  await waitFor(async () => !isAlive(keeperPid), 60_000, 'switchyard to stop').catch(() => process.kill(keeperPid, 'SIGKILL'));
  rmSync(dir, { recursive: true, force: true });
}

interface DaemonView {
  generation: number;
  upgrade: { state: string; reason: string | null; startedAt: string; finishedAt: string | null } | null;
  processes: { role: string; pid: number }[];
}

/** switchyard upgrades itself under the load: the app processes must be the same ones afterwards. */
async function upgrade(): Promise<void> {
  const view = async () => (await (await request(`${admin}/api/v1/daemon`)).body.json()) as DaemonView;
  const apps = async () => {
    // The serving ones: a blue-green standby fleet may reach the end of its time meanwhile and stop.
    const services = (await (await request(`${admin}/api/v1/services`)).body.json()) as { services: { releases: { instances: { pid: number | null; inRotation: boolean }[] }[] }[] };
    return services.services.flatMap((s) => s.releases.flatMap((r) => r.instances.filter((i) => i.inRotation).map((i) => i.pid))).sort();
  };
  const before = await view();
  const appsBefore = await apps();
  process.stdout.write(`switchyard: upgrade generation ${before.generation} → ${before.generation + 1} … `);
  const res = await request(`${admin}/api/v1/daemon/upgrade`, { method: 'POST' });
  await res.body.dump();
  if (res.statusCode !== 202) throw new Error(`upgrade refused: ${res.statusCode}`);
  let after = before;
  await waitFor(async () => {
    after = await view();
    return after.upgrade?.state !== undefined && after.upgrade.state !== 'in-progress' && (after.upgrade.state === 'failed' || after.generation > before.generation);
  }, 120_000, 'the upgrade');
  keeperPid = after.processes.find((p) => p.role === 'keeper')?.pid ?? keeperPid;
  const kept = JSON.stringify(await apps()) === JSON.stringify(appsBefore);
  const seconds = (Date.parse(after.upgrade!.finishedAt ?? '') - Date.parse(after.upgrade!.startedAt)) / 1000;
  upgraded = after.upgrade!.state === 'succeeded' && kept;
  console.log(after.upgrade!.state === 'succeeded' ? `serving in ${seconds.toFixed(1)} s; the ${appsBefore.length} serving app processes kept: ${kept ? 'yes' : 'NO'}` : `failed: ${after.upgrade!.reason}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function deploy(service: string, body: Record<string, unknown>, what: string): Promise<void> {
  process.stdout.write(`${what} … `);
  const started = Date.now();
  const res = await request(`${admin}/api/v1/services/${service}/deployments`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const created = (await res.body.json()) as { id?: number; error?: { message: string } };
  if (res.statusCode !== 202 || created.id === undefined) throw new Error(`deploy refused: ${created.error?.message ?? res.statusCode}`);
  let final: { state: string; reason: string | null } = { state: 'pending', reason: null };
  await waitFor(async () => {
    final = (await (await request(`${admin}/api/v1/deployments/${created.id}`)).body.json()) as typeof final;
    return ['succeeded', 'rolled-back', 'failed'].includes(final.state);
  }, 120_000, `deployment ${created.id}`);
  const seconds = (Date.now() - started) / 1000;
  deploys.push({ what, state: final.state, seconds, reason: final.reason });
  console.log(`${final.state} in ${seconds.toFixed(1)} s${final.state === 'succeeded' ? '' : `\n  why: ${final.reason}`}`);
}

/** Steady keep-alive load on both services until `signal` aborts (bounded by 10 minutes anyway). */
async function startLoad(base: string, signal: AbortSignal): Promise<void> {
  const pool = new Pool(base, { connections: 12 });
  const deadline = Date.now() + 600_000;
  const worker = async (service: 'web' | 'api', n: number) => {
    for (let i = 0; !signal.aborted && Date.now() < deadline; i++) {
      const outcome = traffic[service];
      // Every tenth web request is a slow one, so deploys meet requests in flight.
      const path = service === 'api' ? '/api/hello' : i % 10 === n % 10 ? '/?sleep=500' : '/';
      try {
        const res = await pool.request({ path, method: 'GET' });
        const body = (await res.body.json()) as { version?: string };
        if (res.statusCode === 200) {
          outcome.ok++;
          outcome.byVersion.set(body.version ?? '?', (outcome.byVersion.get(body.version ?? '?') ?? 0) + 1);
        } else {
          outcome.failed++;
          outcome.failures.push(`HTTP ${res.statusCode}`);
        }
      } catch (err) {
        outcome.failed++;
        outcome.failures.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all([...Array.from({ length: 8 }, (_, n) => worker('web', n)), ...Array.from({ length: 2 }, (_, n) => worker('api', n))]);
  await pool.close();
}

function report(): void {
  const sent = traffic.web.ok + traffic.web.failed + traffic.api.ok + traffic.api.failed;
  const failed = traffic.web.failed + traffic.api.failed;
  console.log('\n=== summary ===');
  console.log(`requests sent: ${sent}   failed: ${failed}`);
  for (const [name, o] of Object.entries(traffic)) {
    const versions = [...o.byVersion].map(([v, n]) => `${v}: ${n}`).join(', ');
    console.log(`  ${name}: ${o.ok} ok, ${o.failed} failed  (${versions})${o.failures.length ? ` first failures: ${o.failures.slice(0, 3).join('; ')}` : ''}`);
  }
  console.log('deployments:');
  for (const d of deploys) console.log(`  ${d.what}: ${d.state} in ${d.seconds.toFixed(1)} s${d.state === 'succeeded' ? '' : ` (${d.reason})`}`);
  const expected = deploys.every((d, i) => (i === deploys.length - 1 ? d.state === 'rolled-back' : d.state === 'succeeded'));
  console.log(`switchyard's own upgrade: ${upgraded ? 'a new generation serves, every app process kept' : 'FAILED'}`);
  if (failed > 0 || !expected || !upgraded) process.exitCode = 1;
  console.log(failed === 0 && expected && upgraded ? '\nzero failed requests across every deploy, the automatic rollback and switchyard\'s own upgrade.' : '\nthe demo did not go as it should.');
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await pause(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

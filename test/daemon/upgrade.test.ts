// Switchyard's own upgrade, crashes and restarts (invariant 11): `switchyard upgrade` hands the listening
// sockets to a new generation that adopts the instances, under keep-alive, new-connection, upload and
// WebSocket load, with no failed request and no app restarted; a new generation that fails changes
// nothing; a second `up` on the same state is refused before it touches anything; a proxy worker SIGKILLed
// loses only its own connections and is replaced.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import WebSocket from 'ws';
import type { DaemonView } from '../../src/api/daemon-view.js';
import { freePort, runCli, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { MARKER_ENV, NODE_APP } from '../helpers/deploy-harness.js';
import { instanceProcesses, killMarked, plainRequest } from '../helpers/hostile.js';
import { describeFailures, Load } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

interface Site {
  tmp: TempDir;
  configFile: string;
  adminUrl: string;
  proxyUrl: string;
  proxyPort: number;
  marker: string;
  daemon: DaemonProcess;
}

/** Long enough that the WebSocket can be checked on the old generation after the upgrade, on a loaded machine. */
const DRAIN_MS = 5000;

function config(tmp: TempDir, proxyPort: number, adminPort: number, workers: number): string {
  return JSON.stringify({
    proxy: { listen: `127.0.0.1:${proxyPort}`, workers, accessLog: { enabled: false } },
    admin: { listen: `127.0.0.1:${adminPort}` },
    state: join(tmp.dir, 'state'),
    services: {
      web: {
        run: { command: [process.execPath, NODE_APP], cwd: tmp.dir, env: { APP_VERSION: '{version}' }, version: 'v1' },
        instances: 2,
        health: { path: '/healthz', interval: '100ms', timeout: '1s' },
        drain: { timeout: `${DRAIN_MS}ms` },
        stop: { timeout: '2s' },
      },
    },
  });
}

async function newSite(workers = 2): Promise<Site> {
  const tmp = await tempDir('switchyard-upgrade-');
  const proxyPort = await freePort();
  const adminPort = await freePort();
  const configFile = await tmp.write('switchyard.yaml', config(tmp, proxyPort, adminPort, workers));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const marker = `${MARKER_ENV}=${tmp.dir}`;
  const daemon = await startDaemon(configFile, { adminUrl, cwd: tmp.dir, env: { [MARKER_ENV]: tmp.dir }, timeout: 30_000 });
  const site = { tmp, configFile, adminUrl, proxyUrl: `http://127.0.0.1:${proxyPort}`, proxyPort, marker, daemon };
  await waitFor(async () => (await serving(site)) === 2, { timeout: 30_000, message: 'two instances in rotation' });
  return site;
}

async function serving(site: Site): Promise<number> {
  const res = await plainRequest(`${site.adminUrl}/api/v1/services/web`).catch(() => null);
  if (res?.status !== 200) return 0;
  const view = JSON.parse(res.body) as { releases: { instances: { inRotation: boolean }[] }[] };
  return view.releases.flatMap((r) => r.instances).filter((i) => i.inRotation).length;
}

async function daemonView(site: Site): Promise<DaemonView> {
  const res = await plainRequest(`${site.adminUrl}/api/v1/daemon`);
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body) as DaemonView;
}

/** Switchyard's own processes (keeper, controller, proxies) of this test, by the title each sets. */
function switchyardProcesses(marker: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      const title = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (environ.includes(marker) && title.startsWith('switchyard ')) found.set(Number(name), title);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

async function teardown(site: Site | undefined): Promise<void> {
  if (site === undefined) return;
  await site.daemon.kill();
  // After an upgrade the daemon is a process this test did not start: every marked process goes.
  killMarked(site.marker);
  await site.tmp.remove();
}

function openWebSocket(site: Site): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }>; echoes: () => Promise<boolean> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${site.proxyPort}/ws`);
    const closed = new Promise<{ code: number; reason: string }>((done) => ws.once('close', (code: number, reason: Buffer) => done({ code, reason: reason.toString() })));
    const echoes = () =>
      new Promise<boolean>((done) => {
        const text = `ping ${Date.now()}`;
        const timer = setTimeout(() => done(false), 5000);
        ws.once('message', (data) => {
          clearTimeout(timer);
          done((data as Buffer).toString() === text);
        });
        ws.send(text);
      });
    ws.once('open', () => resolve({ ws, closed, echoes }));
    ws.once('error', reject);
  });
}

describe('switchyard upgrade', () => {
  let site: Site | undefined;
  before(async () => {
    site = await newSite();
  });
  after(() => teardown(site));

  it('hands the sockets to a new generation under load: no failed request, the same app processes, the old generation drains and exits', { timeout: 120_000 }, async () => {
    const s = site!;
    const appsBefore = instanceProcesses(s.marker);
    assert.equal(appsBefore.size, 2);
    const oldProcesses = switchyardProcesses(s.marker);
    const keepAlive = Load.start({ url: s.proxyUrl, workers: 6, pauseMs: 2, postShare: 0.25, postBody: 'x'.repeat(64 * 1024), maxDurationMs: 60_000 });
    const fresh = Load.start({ url: s.proxyUrl, workers: 2, pauseMs: 5, newConnections: true, maxDurationMs: 60_000 });
    const socket = await openWebSocket(s);
    try {
      await waitFor(() => keepAlive.count('v1') >= 50, { timeout: 20_000, message: 'load before the upgrade' });
      const started = Date.now();
      const result = await runCli(['upgrade', '--admin', s.adminUrl], { cwd: s.tmp.dir, timeout: 90_000 });
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      // The WebSocket opened before the upgrade works on, on the old generation, until its drain deadline.
      assert.ok(await socket.echoes(), 'the WebSocket still echoes after the upgrade');
      assert.match(result.stdout, /generation 1 → generation 2/);
      assert.match(result.stdout, /^generation 2 serves/m);
      const view = await daemonView(s);
      assert.equal(view.generation, 2);
      assert.equal(view.upgrade?.state, 'succeeded');
      for (const p of view.processes) assert.ok(!oldProcesses.has(p.pid), `${p.role} ${p.pid} is a new process`);
      assert.deepEqual(view.processes.map((p) => p.role).sort(), ['controller', 'keeper', 'proxy', 'proxy']);
      const status = await runCli(['status', '--admin', s.adminUrl], { cwd: tmpdir() });
      assert.match(status.stdout, /^switchyard \S+, generation 2: keeper \d+, controller \d+, proxies \d+ \d+ \(table \d+, in force everywhere\); up /);
      // Load goes on through the new generation for a while.
      const switched = Date.now();
      await waitFor(() => keepAlive.outcomes.filter((o) => o.start > switched && o.error === null).length >= 50, { timeout: 20_000, message: 'load after the upgrade' });
      const closed = await socket.closed;
      assert.equal(closed.code, 1001, 'closed by switchyard at the drain deadline, as going away');
      assert.ok(Date.now() - started >= DRAIN_MS, 'not before the drain deadline');
      // The old generation's processes are gone; the apps are the same processes.
      await waitFor(() => [...oldProcesses.keys()].every((pid) => !switchyardProcesses(s.marker).has(pid)), { timeout: 20_000, message: 'the old generation to exit' });
      assert.deepEqual([...instanceProcesses(s.marker).keys()].sort(), [...appsBefore.keys()].sort(), 'no app instance was restarted');
    } finally {
      socket.ws.terminate();
      const reports = [await keepAlive.stop(), await fresh.stop()];
      for (const report of reports) assert.equal(report.failed, 0, describeFailures(report));
      assert.ok(reports[1]!.outcomes.length > 20, 'new connections were made throughout');
    }
  });

  it('refuses a second upgrade while one runs, and a new generation that cannot start changes nothing', { timeout: 120_000 }, async () => {
    const s = site!;
    const before = await daemonView(s);
    const apps = [...instanceProcesses(s.marker).keys()].sort();
    // The new generation reads the config file: a broken one makes it fail before it serves.
    const good = readFileSync(s.configFile, 'utf8');
    await s.tmp.write('switchyard.yaml', good.replace('"instances":2', '"instances":"two"'));
    try {
      // From elsewhere: the broken file is the daemon's, not this command's.
      const result = await runCli(['upgrade', '--admin', s.adminUrl], { cwd: tmpdir(), timeout: 90_000 });
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stderr, new RegExp(`upgrade to generation ${before.generation + 1} failed: .*instances`));
      assert.match(result.stderr, new RegExp(`generation ${before.generation} serves on, unchanged`));
    } finally {
      await s.tmp.write('switchyard.yaml', good);
    }
    const after = await daemonView(s);
    assert.equal(after.generation, before.generation);
    assert.deepEqual(after.processes.map((p) => p.pid), before.processes.map((p) => p.pid), 'the same processes serve');
    assert.deepEqual([...instanceProcesses(s.marker).keys()].sort(), apps);
    const res = await request(`${s.proxyUrl}/`);
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  });

  it('keeps serving when the new generation is SIGKILLed in the middle of taking over', { timeout: 120_000 }, async () => {
    const s = site!;
    const before = await daemonView(s);
    const apps = [...instanceProcesses(s.marker).keys()].sort();
    const load = Load.start({ url: s.proxyUrl, workers: 4, pauseMs: 2, maxDurationMs: 60_000 });
    try {
      const upgrade = runCli(['upgrade', '--admin', s.adminUrl], { cwd: s.tmp.dir, timeout: 90_000 });
      const next = `switchyard keeper (generation ${before.generation + 1})`;
      const victim = await waitFor(() => [...switchyardProcesses(s.marker)].find(([, title]) => title === next)?.[0], { timeout: 30_000, interval: 5, message: 'the new keeper' });
      process.kill(victim, 'SIGKILL');
      const result = await upgrade;
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stderr, /failed/);
      await waitFor(async () => (await serving(s)) === 2, { timeout: 30_000, message: 'the old generation to serve with both instances' });
      const after = await daemonView(s);
      assert.equal(after.generation, before.generation);
      assert.equal(after.upgrade?.state, 'failed');
      assert.deepEqual([...instanceProcesses(s.marker).keys()].sort(), apps, 'no app instance was restarted');
    } finally {
      const report = await load.stop();
      assert.equal(report.failed, 0, describeFailures(report));
    }
  });

  it('refuses a second `up` on the same state at once (exit 2), touching no instance', { timeout: 60_000 }, async () => {
    const s = site!;
    const apps = [...instanceProcesses(s.marker).keys()].sort();
    const result = await runCli(['up', '-c', s.configFile], { cwd: s.tmp.dir, env: { [MARKER_ENV]: s.tmp.dir }, timeout: 20_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /another switchyard daemon runs on the state folder .*nothing was changed/);
    assert.deepEqual([...instanceProcesses(s.marker).keys()].sort(), apps);
    assert.equal(await serving(s), 2);
  });
});

describe('a proxy worker SIGKILLed', () => {
  let site: Site | undefined;
  before(async () => {
    site = await newSite(2);
  });
  after(() => teardown(site));

  it('loses only the connections it held; another worker replaces it and requests go on', { timeout: 90_000 }, async () => {
    const s = site!;
    const load = Load.start({ url: s.proxyUrl, workers: 8, pauseMs: 2, maxDurationMs: 60_000 });
    try {
      await waitFor(() => load.count('v1') >= 100, { timeout: 20_000, message: 'load before the kill' });
      const before = await daemonView(s);
      const victim = before.processes.find((p) => p.role === 'proxy' && p.index === 1)!;
      const killedAt = Date.now();
      process.kill(victim.pid, 'SIGKILL');
      const replaced = await waitFor(
        async () => {
          const view = await daemonView(s);
          const worker = view.processes.find((p) => p.role === 'proxy' && p.index === 1);
          return worker !== undefined && worker.pid !== victim.pid && worker.tableVersion === view.tableVersion && worker.tableVersion > 0 ? worker : undefined;
        },
        { timeout: 20_000, message: 'a new proxy 1 with the current table' },
      );
      assert.notEqual(replaced.pid, victim.pid);
      const afterKill = Date.now();
      await waitFor(() => load.outcomes.filter((o) => o.start > afterKill && o.error === null).length >= 100, { timeout: 20_000, message: 'load after the replacement' });
      const report = await load.stop();
      assert.ok(report.ok > 200);
      // Only what was in flight on the killed worker's connections can fail: at most one request per
      // load connection (8), all at the kill, none after.
      const failed = report.failures;
      assert.ok(failed.length <= 8, describeFailures(report));
      for (const f of failed) assert.ok(f.start <= killedAt + 50, `a request started ${f.start - killedAt} ms after the kill failed: ${describeFailures(report)}`);
    } finally {
      await load.stop();
    }
  });
});

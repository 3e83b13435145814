// Slow and greedy clients against a real `switchyard up` (issue 7, point 2): slowloris, slow bodies, clients
// that never read a large download, and a flood of idle connections over maxConnections. In every case a
// normal client keeps getting 200s, the attackers are cut off by the configured limits, the app's side of
// a cut exchange is aborted, and the daemon's memory stays bounded. A bounded slowhttptest run closes it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import {
  describeProbes,
  hasSlowhttptest,
  daemonPids,
  MemoryWatch,
  proxyWorkerPids,
  nonReadingClient,
  openMany,
  Probe,
  runSlowhttptest,
  SlowBody,
  Slowloris,
  stablePort,
  startStreamingApp,
  type HostileSocket,
  type ProbeResult,
  type StreamingApp,
} from '../helpers/hostile.js';
import { waitFor } from '../helpers/wait.js';

const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 4000;
const SEND_TIMEOUT_MS = 2000;
const MAX_CONNECTIONS = 200;
/** Node checks header and request timeouts once a second at most: a cut may come this much late. */
const CHECK_SLACK_MS = 2500;
/** How much the daemon's resident memory may grow during one attack. */
const MAX_GROWTH_MB = 40;

function configText(proxyPort: number, adminPort: number, state: string, backend: string, maxConnections: number): string {
  return `${JSON.stringify(
    {
      proxy: {
        listen: `127.0.0.1:${proxyPort}`,
        accessLog: { enabled: false },
        limits: {
          headersTimeout: `${HEADERS_TIMEOUT_MS}ms`,
          requestTimeout: `${REQUEST_TIMEOUT_MS}ms`,
          keepAliveTimeout: '5s',
          sendTimeout: `${SEND_TIMEOUT_MS}ms`,
          maxConnections,
        },
      },
      admin: { listen: `127.0.0.1:${adminPort}` },
      state,
      services: { web: { targets: [backend], health: { interval: '200ms', timeout: '1s' }, timeouts: { response: '10s', idle: '10s' } } },
    },
    null,
    2,
  )}\n`;
}

interface Setup {
  tmp: TempDir;
  app: StreamingApp;
  daemon: DaemonProcess;
  url: string;
  port: number;
}

async function setUp(maxConnections: number): Promise<Setup> {
  const tmp = await tempDir('switchyard-slow-');
  const [port, adminPort, appPort] = (await distinctPorts(3)) as [number, number, number];
  const app = await startStreamingApp(appPort);
  let daemon: DaemonProcess | undefined;
  // A set-up that fails half way stops what it started: a leftover app would keep the test process alive.
  try {
    const config = await tmp.write('switchyard.yaml', configText(port, adminPort, `${tmp.dir}/state`, app.address, maxConnections));
    daemon = await startDaemon(config, { adminUrl: `http://127.0.0.1:${adminPort}`, cwd: tmp.dir });
    const url = `http://127.0.0.1:${port}/`;
    // The static target passes its first TCP check within a health interval.
    await waitFor(
      async () => {
        const probe = Probe.start(url, { maxDurationMs: 1 });
        const [first] = await probe.stop();
        return first?.status === 200;
      },
      { timeout: 10_000, interval: 100, message: 'the proxy to answer 200' },
    );
    return { tmp, app, daemon, url, port };
  } catch (err) {
    await daemon?.kill();
    await app.kill();
    await tmp.remove();
    throw err;
  }
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) ports.push(await stablePort());
  return ports;
}

async function tearDown(setup: Setup | undefined): Promise<void> {
  if (setup === undefined) return;
  await setup.daemon.kill();
  await setup.app.kill();
  await setup.tmp.remove();
}

/** Asserts the probe saw only 200s and the daemon's memory stayed bounded; records both in the test output. */
function assertAvailable(
  t: { diagnostic(message: string): void },
  results: readonly ProbeResult[],
  mem: { firstMb: number; peakMb: number; growthMb: number },
  maxGrowthMb = MAX_GROWTH_MB,
  minProbes = 5,
): void {
  const slowest = Math.max(...results.map((r) => r.ms));
  t.diagnostic(`probe: ${results.length} requests, ${results.filter((r) => r.status === 200).length} × 200, slowest ${slowest} ms; daemon RSS ${mem.firstMb.toFixed(0)} → peak ${mem.peakMb.toFixed(0)} MB`);
  assert.ok(results.length >= minProbes, `the probe ran (${results.length} probes)`);
  assert.equal(results.filter((r) => r.status !== 200).length, 0, describeProbes(results));
  assert.ok(mem.growthMb < maxGrowthMb, `the daemon's memory grew ${mem.growthMb.toFixed(1)} MB (from ${mem.firstMb.toFixed(0)} MB)`);
}

describe('slow and greedy clients against a running daemon', () => {
  let s: Setup;
  const attackers: { stop(): void }[] = [];
  const sockets: HostileSocket[] = [];

  before(async () => {
    s = await setUp(MAX_CONNECTIONS);
  });
  after(async () => {
    for (const a of attackers) a.stop();
    for (const socket of sockets) socket.destroy();
    await tearDown(s);
  });

  it('cuts 100 slowloris connections after headersTimeout with 408 while a normal client keeps getting 200s', async (t) => {
    const memory = new MemoryWatch(() => daemonPids(s.daemon.pid));
    const probe = Probe.start(s.url);
    const loris = await Slowloris.start(s.port, { connections: 100, intervalMs: 1000 });
    attackers.push(loris);
    const started = Date.now();
    await waitFor(() => loris.open === 0, { timeout: HEADERS_TIMEOUT_MS + CHECK_SLACK_MS + 2000, interval: 50, message: 'every slowloris connection to be closed' });
    const lastClose = Math.max(...loris.sockets.map((c) => c.closedAt!));
    loris.stop();
    const results = await probe.stop();
    const mem = memory.stop();

    assert.equal(loris.sockets.length, 100, 'all 100 connections were accepted (under maxConnections)');
    assert.ok(lastClose - started <= HEADERS_TIMEOUT_MS + CHECK_SLACK_MS, `the last one was cut ${lastClose - started} ms after the attack began`);
    // Each was still sending header lines when cut: none of them could hold a connection by trickling.
    const answers = loris.sockets.map((c) => c.text.split('\r\n')[0]);
    assert.deepEqual([...new Set(answers)], ['HTTP/1.1 408 Request Timeout'], 'each got a 408 before the close');
    assertAvailable(t, results, mem);
  });

  it('cuts slow bodies (1 MB at 10 bytes/s) after requestTimeout and aborts them at the app, while normal clients get 200s', async (t) => {
    const memory = new MemoryWatch(() => daemonPids(s.daemon.pid));
    const probe = Probe.start(s.url);
    const { uploads: before } = await s.app.stats();
    const started = Date.now();
    const bodies = await Promise.all(Array.from({ length: 20 }, () => SlowBody.start(s.port, { contentLength: 1024 * 1024, bytesPerTick: 10, intervalMs: 1000 })));
    attackers.push(...bodies);
    await waitFor(() => bodies.every((b) => b.client.closed), { timeout: REQUEST_TIMEOUT_MS + CHECK_SLACK_MS + 2000, interval: 50, message: 'every slow body to be cut' });
    const lastClose = Math.max(...bodies.map((b) => b.client.closedAt!));
    for (const b of bodies) b.stop();
    const uploads = await waitFor(
      async () => {
        const { uploads } = await s.app.stats();
        return uploads.aborted - before.aborted === 20 ? uploads : undefined;
      },
      { timeout: 5000, interval: 100, message: 'the app to see every slow upload aborted' },
    );
    const results = await probe.stop();
    const mem = memory.stop();

    assert.ok(lastClose - started <= REQUEST_TIMEOUT_MS + CHECK_SLACK_MS, `the last slow body was cut ${lastClose - started} ms after it began`);
    assert.equal(uploads.complete, before.complete, 'no slow body ever reached the app whole');
    assert.ok(Math.max(...bodies.map((b) => b.sent)) < 200, 'each had sent only a few bytes');
    assertAvailable(t, results, mem);
  });

  it('cuts 12 clients that never read a 50 MB download after sendTimeout, aborting the app responses, in bounded memory', async (t) => {
    const READERS = 12;
    const memory = new MemoryWatch(() => daemonPids(s.daemon.pid));
    const probe = Probe.start(s.url);
    const { downloads: before } = await s.app.stats();
    const started = Date.now();
    const readers = await Promise.all(Array.from({ length: READERS }, () => nonReadingClient(s.port, '/big?mb=50')));
    sockets.push(...readers);
    const downloads = await waitFor(
      async () => {
        const { downloads } = await s.app.stats();
        return downloads.aborted - before.aborted === READERS ? downloads : undefined;
      },
      { timeout: SEND_TIMEOUT_MS + 8000, interval: 50, message: 'the app to see every download aborted' },
    );
    const lastAbort = downloads.lastAbortAt;
    const mem = memory.stop();
    // Now read what the proxy had sent before it gave up: the response ends early, never whole.
    for (const r of readers) r.socket.resume();
    await waitFor(() => readers.every((r) => r.closed), { timeout: 10_000, interval: 50, message: 'the slow readers to see their connections end' });
    const results = await probe.stop();

    assert.equal(downloads.started - before.started, READERS);
    assert.equal(downloads.finished - before.finished, 0, 'no download was sent whole');
    // Filling the socket buffers takes well under a second here; then sendTimeout runs.
    assert.ok(lastAbort - started <= SEND_TIMEOUT_MS + 4000, `the last app response was aborted ${lastAbort - started} ms after the requests`);
    for (const r of readers) {
      assert.match(r.text, /^HTTP\/1\.1 200 /, 'the response had started');
      assert.ok(r.received < 50 * 1024 * 1024, `the client got ${r.received} bytes, less than the whole 50 MB`);
    }
    // 600 MB were asked for; the proxy holds about a socket buffer per reader, plus the garbage of streaming.
    assertAvailable(t, results, mem, 64);
  });

  it('refuses connections over maxConnections, closes idle ones after headersTimeout, and keeps serving a connected client', async (t) => {
    const memory = new MemoryWatch(() => daemonPids(s.daemon.pid));
    // A client connected before the flood keeps its (kept-alive) connection and is served throughout.
    const steady = Probe.start(s.url, { keepAlive: true });
    await steady.healthyStreak(3, 5000);
    const started = Date.now();
    const { sockets: idle, refused } = await openMany(s.port, MAX_CONNECTIONS + 50);
    sockets.push(...idle);
    // Over the limit, the kernel accepts and Node closes at once: those are closed well before headersTimeout.
    await waitFor(() => idle.filter((c) => c.closed).length + refused >= 50, { timeout: 1500, interval: 20, message: 'the 50 over the limit to be closed at once' });
    const earlyClosed = idle.filter((c) => c.closed).length + refused;
    // A newcomer is then shut out until the idle ones time out; after that, it is served again.
    await waitFor(() => idle.every((c) => c.closed), { timeout: HEADERS_TIMEOUT_MS + CHECK_SLACK_MS + 2000, interval: 50, message: 'every idle connection to be closed' });
    const lastClose = Math.max(...idle.map((c) => c.closedAt!));
    const fresh = Probe.start(s.url);
    await fresh.healthyStreak(5, 5000);
    const steadyResults = await steady.stop();
    await fresh.stop();
    const mem = memory.stop();

    assert.ok(earlyClosed >= 50 && earlyClosed < 60, `${earlyClosed} connections over the limit were closed at once`);
    assert.ok(lastClose - started <= HEADERS_TIMEOUT_MS + CHECK_SLACK_MS + 1000, `the last idle connection was closed ${lastClose - started} ms after the flood`);
    for (const c of idle) assert.ok(!c.text.includes('HTTP/1.1 200'), 'no idle connection got anything but an error or a close');
    assertAvailable(t, steadyResults, mem);
  });
});

describe('slowhttptest against a running daemon', () => {
  const installed = hasSlowhttptest();
  let s: Setup | undefined;
  before(async () => {
    if (installed) s = await setUp(2000);
  });
  after(async () => tearDown(s));

  it(
    'stays available under slow headers, slow bodies and slow reads at once (200 connections each, 8 s)',
    { skip: installed ? false : 'slowhttptest is not installed (apt-get install slowhttptest; .ci/run installs it)', timeout: 60_000 },
    async (t) => {
      const { url, daemon } = s!;
      const memory = new MemoryWatch(() => daemonPids(daemon.pid));
      // Available means answered within 5 s of the time the daemon had a CPU. Measured (issue 10): on a
      // loaded 2-core machine the daemon's event loop waited for a CPU 80-90% of the time during this
      // attack; new connections then sat in the accept queue for up to 8 s while the daemon used about
      // 20% of a core and answered its admin API within 0.5 s. That is the machine, not a stall in
      // switchyard: a probe's wall time minus the daemon's run-queue wait (/proc/PID/schedstat) must
      // stay within 5 s, and a probe gives up only after 30 s.
      const probe = Probe.start(url, { intervalMs: 200, timeoutMs: 30_000, waitPid: proxyWorkerPids(daemon.pid)[0] ?? daemon.pid });
      const common = ['-c', '200', '-i', '1', '-r', '100', '-l', '8', '-p', '3'];
      const runs = await Promise.all([
        runSlowhttptest([...common, '-H', '-x', '24', '-u', url], 30_000),
        runSlowhttptest([...common, '-B', '-s', '1048576', '-x', '10', '-u', `${url}upload`], 30_000),
        runSlowhttptest([...common, '-X', '-k', '1', '-n', '1', '-w', '1', '-y', '16', '-z', '8', '-u', `${url}big?mb=4`], 30_000),
      ]);
      const results = await probe.stop();
      const mem = memory.stop();

      for (const [i, run] of runs.entries()) {
        const exit = /Exit status:\s*(.+)/.exec(run.output)?.[1]?.trim() ?? '?';
        t.diagnostic(`slowhttptest ${['-H', '-B', '-X'][i]}: service available ${run.availability.join(' ')}; ${exit}`);
        assert.equal(run.signal, null, `slowhttptest ran to its end:\n${run.output.slice(-2000)}`);
        assert.ok(run.availability.length > 0, `slowhttptest reported availability:\n${run.output.slice(-2000)}`);
        assert.deepEqual([...new Set(run.availability)], ['YES'], `slowhttptest's own probe found the service available:\n${run.output.slice(-2000)}`);
      }
      for (const r of results) {
        assert.ok(r.ms - r.cpuWaitMs <= 5000, `a probe took ${r.ms} ms, of which the daemon waited ${r.cpuWaitMs} ms for a CPU: ${r.ms - r.cpuWaitMs} ms of its own`);
      }
      // Starved probes are long, so fewer fit in the attack's 8 s.
      assertAvailable(t, results, mem, 100, 2);
    },
  );
});

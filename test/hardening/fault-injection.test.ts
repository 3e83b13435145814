// Fault injection: the controller process SIGKILLs itself right after a chosen step of a deployment is
// recorded as running (SWITCHYARD_FAULT_KILL_AT), for a blue-green and a rolling deployment, under load.
// The keeper starts another controller, which must take over (invariant 11): the proxies serve on (no
// failed request), every instance process still running is adopted under its PID, the deployment goes on
// from its stored steps and finishes in agreement with the stable release, no process runs that the store
// does not hold live, the history is intact and SQLite's integrity check passes. A whole daemon killed
// and started again adopts the same way. An unwritable state folder fails `up` clearly.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { NODE_APP } from '../helpers/deploy-harness.js';
import { freePort, runCli, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { instanceProcesses, killMarked, plainRequest, stablePort } from '../helpers/hostile.js';
import { describeFailures, Load } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

type Strategy = 'blue-green' | 'rolling';

interface KillPoint {
  strategy: Strategy;
  /** The SWITCHYARD_FAULT_KILL_AT value. */
  at: string;
  /** The step that is running when the controller dies, as planned (see the step lists below). */
  step: string;
  /** How the deployment ends: an interrupted preDeploy is not run twice, so it rolls back. */
  ends: 'succeeded' | 'rolled-back';
}

// blue-green (autoPromote, no scaleDownDelay), 2 → 2 instances:
//   0 hook preDeploy, 1 start, 2 route (preview), 3 route (switch), 4 promote, 5 stop stable, 6 hook postDeploy
// rolling (maxSurge 1, maxUnavailable 0), 2 → 2 instances:
//   0 hook preDeploy, 1 start, 2 route, 3 stop, 4 start, 5 route, 6 stop, 7 promote, 8 hook postDeploy
const KILL_POINTS: KillPoint[] = [
  { strategy: 'blue-green', at: 'hook', step: 'hook', ends: 'rolled-back' },
  { strategy: 'blue-green', at: 'start', step: 'start', ends: 'succeeded' },
  { strategy: 'blue-green', at: 'route#2', step: 'route', ends: 'succeeded' },
  { strategy: 'blue-green', at: 'promote', step: 'promote', ends: 'succeeded' },
  { strategy: 'blue-green', at: 'stop', step: 'stop', ends: 'succeeded' },
  { strategy: 'blue-green', at: 'hook#2', step: 'hook', ends: 'succeeded' },
  { strategy: 'rolling', at: 'route', step: 'route', ends: 'succeeded' },
  { strategy: 'rolling', at: '3', step: 'stop', ends: 'succeeded' },
  { strategy: 'rolling', at: 'route#2', step: 'route', ends: 'succeeded' },
  { strategy: 'rolling', at: '7', step: 'promote', ends: 'succeeded' },
  { strategy: 'rolling', at: '8', step: 'hook', ends: 'succeeded' },
];

const MARKER_ENV = 'SY_TEST_RUN_MARKER';

interface Site {
  tmp: TempDir;
  configFile: string;
  adminUrl: string;
  proxyUrl: string;
  marker: string;
  daemon: DaemonProcess | null;
}

interface ServiceView {
  stable: { number: number; version: string } | null;
  deployment: unknown;
  instancesWanted: number;
  releases: { version: string; instances: { id: string; state: string; pid: number | null; inRotation: boolean }[] }[];
}

async function newSite(strategy: Strategy): Promise<Site> {
  const tmp = await tempDir('switchyard-fault-');
  // Ports outside the ephemeral range: the daemon is stopped and started again on them.
  const proxyPort = await stablePort();
  const adminPort = await stablePort();
  const deploy =
    strategy === 'blue-green'
      ? { strategy, blueGreen: { autoPromote: true, scaleDownDelay: '0s' } }
      : { strategy, rolling: { maxSurge: 1, maxUnavailable: 0 } };
  const config = {
    proxy: { listen: `127.0.0.1:${proxyPort}`, accessLog: { enabled: false } },
    admin: { listen: `127.0.0.1:${adminPort}` },
    state: join(tmp.dir, 'state'),
    services: {
      web: {
        run: { command: [process.execPath, NODE_APP], cwd: tmp.dir, env: { APP_VERSION: '{version}' }, version: 'v1' },
        instances: 2,
        health: { path: '/healthz', interval: '100ms', timeout: '1s', startTimeout: '20s' },
        drain: { timeout: '1s' },
        stop: { timeout: '2s' },
        deploy: { ...deploy, hooks: { preDeploy: 'true', postDeploy: 'true' } },
      },
    },
  };
  const configFile = await tmp.write('switchyard.yaml', `${JSON.stringify(config, null, 2)}\n`);
  return { tmp, configFile, adminUrl: `http://127.0.0.1:${adminPort}`, proxyUrl: `http://127.0.0.1:${proxyPort}`, marker: `${MARKER_ENV}=${tmp.dir}`, daemon: null };
}

async function up(site: Site, env: Record<string, string> = {}): Promise<DaemonProcess> {
  site.daemon = await startDaemon(site.configFile, { adminUrl: site.adminUrl, cwd: site.tmp.dir, env: { [MARKER_ENV]: site.tmp.dir, ...env }, timeout: 30_000 });
  return site.daemon;
}

/** SIGTERM (the daemon stops its instances), SIGKILL after 15 s, then any marked process is killed by PID. */
async function down(site: Site): Promise<void> {
  const daemon = site.daemon;
  if (daemon !== null) {
    try {
      daemon.signal('SIGTERM');
    } catch {
      // Already gone.
    }
    const stopped = await Promise.race([daemon.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000).unref())]);
    if (!stopped) await daemon.kill();
  }
  site.daemon = null;
}

async function api<T>(site: Site, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await plainRequest(`${site.adminUrl}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: JSON.parse(res.body) as T };
}

function readDb<T>(site: Site, read: (db: Database.Database) => T): T {
  const db = new Database(join(site.tmp.dir, 'state', 'state.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return read(db);
  } finally {
    db.close();
  }
}

interface DeploymentRecord {
  id: number;
  state: string;
  reason: string | null;
  from_version: string | null;
  to_version: string;
}

function deploymentRecord(site: Site, id: number): DeploymentRecord {
  return readDb(site, (db) =>
    db
      .prepare<[number], DeploymentRecord>(
        `SELECT d.id, d.state, d.reason, f.version AS from_version, t.version AS to_version
         FROM deployments d LEFT JOIN releases f ON f.id = d.from_release_id JOIN releases t ON t.id = d.to_release_id WHERE d.id = ?`,
      )
      .get(id)!,
  );
}

function events(site: Site): { id: number; type: string; message: string }[] {
  return readDb(site, (db) => db.prepare<[], { id: number; type: string; message: string }>('SELECT id, type, message FROM events ORDER BY id').all());
}

function stableVersion(site: Site): string | null {
  return readDb(
    site,
    (db) => db.prepare<[], { version: string }>("SELECT r.version FROM services s JOIN releases r ON r.id = s.stable_release_id WHERE s.name = 'web'").get()?.version ?? null,
  );
}

function liveInstanceRows(site: Site): { id: string; pid: number | null; version: string }[] {
  return readDb(site, (db) =>
    db
      .prepare<[], { id: string; pid: number | null; version: string }>(
        "SELECT i.id, i.pid, r.version FROM instances i JOIN releases r ON r.id = i.release_id WHERE i.state IN ('starting', 'ready', 'draining')",
      )
      .all(),
  );
}

interface DaemonView {
  processes: { role: string; pid: number }[];
}

async function controllerPid(site: Site): Promise<number | undefined> {
  const res = await api<DaemonView>(site, 'GET', '/api/v1/daemon').catch(() => undefined);
  return res?.body.processes.find((p) => p.role === 'controller')?.pid;
}

/** Waits until the service has no deployment in progress and returns the last deployment's id. */
async function settled(site: Site, timeout: number): Promise<number> {
  await waitFor(async () => (await api<ServiceView>(site, 'GET', '/api/v1/services/web').catch(() => undefined))?.body.deployment === null, {
    timeout,
    interval: 100,
    message: 'the deployment to finish',
  });
  return readDb(site, (db) => db.prepare<[], { id: number }>('SELECT max(id) AS id FROM deployments').get()!.id);
}

/** After a crash: finished in agreement with stable, stable serves whole, no orphan, history intact. */
function assertConsistent(site: Site, id: number, ends: 'succeeded' | 'rolled-back', eventsBefore: { id: number; type: string; message: string }[]): void {
  const record = deploymentRecord(site, id);
  const stable = stableVersion(site);
  assert.equal(record.state, ends, `the deployment ended ${record.state}: ${record.reason}`);
  assert.equal(stable, ends === 'succeeded' ? record.to_version : record.from_version, `stable is ${stable} after a ${record.state} deployment`);
  const live = liveInstanceRows(site);
  assert.deepEqual(new Set(live.map((i) => i.version)), new Set([stable]), 'only the stable release runs');
  assert.equal(live.length, 2, 'with all its instances');
  // No orphan: every instance process alive is one the store holds live, under the recorded PID.
  const running = instanceProcesses(site.marker);
  for (const [pid, instanceId] of running) {
    assert.ok(
      live.some((row) => row.id === instanceId && row.pid === pid),
      `process ${pid} runs as ${instanceId}, which the store does not hold live: ${JSON.stringify(live)}`,
    );
  }
  assert.equal(running.size, live.length);
  // History intact: every event from before the crash is still there, unchanged; integrity ok.
  const after = new Map(events(site).map((e) => [e.id, e]));
  for (const e of eventsBefore) assert.deepEqual(after.get(e.id), e, `event ${e.id} (${e.type}) is kept`);
  const steps = readDb(site, (db) => db.prepare<[number], { state: string }>('SELECT state FROM steps WHERE deployment_id = ?').all(id));
  assert.ok(!steps.some((s) => s.state === 'running'), `no step is left running: ${JSON.stringify(steps)}`);
  assert.equal(
    readDb(site, (db) => db.pragma('integrity_check', { simple: true })),
    'ok',
  );
}

describe('the controller SIGKILLed at a step of a deployment, under load', { concurrency: 3 }, () => {
  for (const point of KILL_POINTS) {
    const title = `${point.strategy}: killed at ${point.at} (a ${point.step} step): another controller takes over, adopts the instances, and the deployment ${point.ends === 'succeeded' ? 'goes on and succeeds' : 'rolls back'} with no failed request`;
    it(title, { timeout: 120_000 }, async () => {
      const site = await newSite(point.strategy);
      let load: Load | null = null;
      try {
        // v1 becomes stable in a first run without the fault (its first release is a deployment too).
        await up(site);
        await waitFor(() => stableVersion(site) === 'v1', { timeout: 30_000, message: 'v1 to be stable' });
        await down(site);
        await up(site, { SWITCHYARD_FAULT_KILL_AT: point.at });
        await waitFor(async () => (await api<ServiceView>(site, 'GET', '/api/v1/services/web')).body.releases.some((r) => r.instances.filter((i) => i.inRotation).length === 2), {
          timeout: 30_000,
          message: 'v1 to serve again',
        });
        const first = await controllerPid(site);
        assert.ok(first !== undefined);
        load = Load.start({ url: site.proxyUrl, workers: 4, pauseMs: 5, maxDurationMs: 100_000 });
        await waitFor(() => load!.count('v1') >= 20, { timeout: 20_000, message: 'v1 answers under load' });
        const appsBefore = new Set(instanceProcesses(site.marker).keys());
        // Killed at the first step, the controller may die before its 202 leaves: the store has the deployment.
        const started = await api<{ id: number }>(site, 'POST', '/api/v1/services/web/deployments', { version: 'v2' }).catch((err: Error) => err);
        if (!(started instanceof Error)) assert.equal(started.status, 202, JSON.stringify(started.body));
        await waitFor(async () => {
          const pid = await controllerPid(site);
          return pid !== undefined && pid !== first;
        }, { timeout: 45_000, interval: 100, message: `the controller to die at ${point.at} and another to answer` });
        const eventsBefore = events(site).filter((e) => e.type !== 'instance.adopted');
        const id = await settled(site, 60_000);
        if (!(started instanceof Error)) assert.equal(id, started.body.id);
        const report = await load.stop();
        load = null;
        assert.equal(report.failed, 0, describeFailures(report));

        const all = events(site);
        assert.ok(all.some((e) => e.type === 'deployment.resumed' && e.message.includes('taken over')), 'the new controller took the deployment over');
        const adopted = all.filter((e) => e.type === 'instance.adopted');
        assert.ok(adopted.length >= 2, `instances were adopted: ${JSON.stringify(adopted)}`);
        // Every app process running at the kill that is still wanted kept its PID: adopted, not restarted.
        const live = liveInstanceRows(site);
        for (const row of live) if (row.version === 'v1') assert.ok(appsBefore.has(row.pid!), `${row.id} kept its process ${row.pid}`);
        if (point.ends === 'rolled-back') assert.match(deploymentRecord(site, id).reason ?? '', /preDeploy hook was interrupted/);
        assertConsistent(site, id, point.ends, eventsBefore);
      } finally {
        await load?.stop();
        await down(site);
        killMarked(site.marker);
        await site.tmp.remove();
      }
    });
  }

  it('a whole daemon SIGKILLed mid-deployment and started again adopts the running instances (same PIDs) and finishes the deployment', { timeout: 120_000 }, async () => {
    const site = await newSite('rolling');
    try {
      await up(site);
      await waitFor(() => stableVersion(site) === 'v1', { timeout: 30_000, message: 'v1 to be stable' });
      const started = await api<{ id: number }>(site, 'POST', '/api/v1/services/web/deployments', { version: 'v2' });
      assert.equal(started.status, 202);
      // Kill the keeper (its controller and workers follow) once the first v2 instance is in rotation.
      await waitFor(async () => (await api<ServiceView>(site, 'GET', '/api/v1/services/web')).body.releases.some((r) => r.version === 'v2' && r.instances.some((i) => i.inRotation)), {
        timeout: 30_000,
        interval: 50,
        message: 'a v2 instance in rotation',
      });
      site.daemon!.signal('SIGKILL');
      await site.daemon!.exited;
      const appsAtKill = new Map(instanceProcesses(site.marker));
      assert.ok(appsAtKill.size >= 2, `the instances outlived the daemon: ${JSON.stringify([...appsAtKill])}`);
      const eventsBefore = events(site);

      await up(site);
      const id = await settled(site, 60_000);
      assert.equal(id, started.body.id);
      const adopted = events(site).filter((e) => e.type === 'instance.adopted').map((e) => e.message);
      assert.ok(adopted.length >= 2, JSON.stringify(adopted));
      // The v2 instance that served at the kill serves on under the same PID.
      const live = liveInstanceRows(site);
      assert.ok(live.some((row) => appsAtKill.get(row.pid!) === row.id), `a live instance kept its process: ${JSON.stringify(live)} ${JSON.stringify([...appsAtKill])}`);
      assertConsistent(site, id, 'succeeded', eventsBefore);
      const res = await plainRequest(`${site.proxyUrl}/`);
      assert.equal(res.status, 200);
      assert.equal((JSON.parse(res.body) as { version: string }).version, 'v2');
    } finally {
      await down(site);
      killMarked(site.marker);
      await site.tmp.remove();
    }
  });
});

describe('start-up faults', () => {
  async function upWithState(state: string): Promise<{ code: number | null; stderr: string; tmp: TempDir }> {
    const tmp = await tempDir('switchyard-unwritable-');
    await tmp.write('plain-file', 'not a directory\n');
    const file = await tmp.write(
      'switchyard.yaml',
      [`proxy: { listen: 127.0.0.1:${await freePort()} }`, `admin: { listen: 127.0.0.1:${await freePort()} }`, `state: ${state.replace('TMP', tmp.dir)}`, 'services:', '  web: { targets: [127.0.0.1:9] }', ''].join(
        '\n',
      ),
    );
    const result = await runCli(['up', '-c', file], { cwd: tmp.dir, timeout: 15_000 });
    return { code: result.code, stderr: result.stderr, tmp };
  }

  // A path under a regular file (ENOTDIR), and a place no one may write, not even root (sysfs: EPERM).
  for (const [what, state] of [
    ['a path under a regular file', 'TMP/plain-file/state'],
    ['a read-only place', '/sys/switchyard-hardening-state'],
  ] as const) {
    it(`makes up exit non-zero with a message naming the path, for ${what}`, async () => {
      const { code, stderr, tmp } = await upWithState(state);
      try {
        const path = state.replace('TMP', tmp.dir);
        assert.notEqual(code, 0);
        assert.ok(code !== null, 'it exited by itself');
        assert.ok(stderr.includes(`cannot write switchyard state at ${path}`), stderr);
      } finally {
        await tmp.remove();
      }
    });

    it(
      `prints that message without a stack trace, for ${what}`,
      async () => {
        const { stderr, tmp } = await upWithState(state);
        try {
          assert.ok(!/^\s+at /m.test(stderr), `no stack trace:\n${stderr}`);
          assert.match(stderr.trim(), /^switchyard: cannot write switchyard state at \S+: .+$/);
        } finally {
          await tmp.remove();
        }
      },
    );
  }
  it(
    'makes up exit non-zero, naming the address, when the proxy port is taken, and leaves no instance running',
    { timeout: 30_000 },
    async () => {
      const tmp = await tempDir('switchyard-port-taken-');
      const blocker = createServer();
      const port = await stablePort();
      await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
      try {
        const config = {
          proxy: { listen: `127.0.0.1:${port}` },
          admin: { listen: `127.0.0.1:${await stablePort()}` },
          state: join(tmp.dir, 'state'),
          services: { web: { run: { command: [process.execPath, NODE_APP], cwd: tmp.dir, version: 'v1' }, health: { path: '/healthz', interval: '100ms' } } },
        };
        const file = await tmp.write('switchyard.yaml', JSON.stringify(config));
        const result = await runCli(['up', '-c', file], { cwd: tmp.dir, env: { [MARKER_ENV]: tmp.dir }, timeout: 10_000 }).catch((err: Error) => err);
        assert.ok(!(result instanceof Error), `up did not exit by itself: ${result instanceof Error ? result.message.slice(0, 500) : ''}`);
        assert.notEqual(result.code, 0);
        assert.ok(result.stderr.includes(`127.0.0.1:${port}`), result.stderr);
        assert.deepEqual([...instanceProcesses(`${MARKER_ENV}=${tmp.dir}`).keys()], [], 'no instance is left running');
      } finally {
        killMarked(`${MARKER_ENV}=${tmp.dir}`);
        await new Promise<void>((resolve) => blocker.close(() => resolve()));
        await tmp.remove();
      }
    },
  );
});

// Fault injection (issue 7, point 8): the daemon SIGKILLs itself right after a chosen step of a deployment
// is recorded as running (SWITCHYARD_FAULT_KILL_AT), for a blue-green and a rolling deployment; a daemon
// started again on the same state, without the fault, must end consistent: the store's stable release
// serves every request, the deployment is finished in agreement with that stable release (rolled back to
// its source, or succeeded on its target), the history is intact, no instance process runs that the store
// does not hold live, and SQLite's integrity check passes. An unwritable state folder fails `up` clearly.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { NODE_APP } from '../helpers/deploy-harness.js';
import { freePort, runCli, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { instanceProcesses, killMarked, plainRequest, stablePort } from '../helpers/hostile.js';
import { waitFor } from '../helpers/wait.js';

type Strategy = 'blue-green' | 'rolling';

interface KillPoint {
  strategy: Strategy;
  /** The SWITCHYARD_FAULT_KILL_AT value. */
  at: string;
  /** The step that is running when the daemon dies, as planned (see the step lists below). */
  step: string;
  /** Set when the kill point comes after the promote step: a known inconsistency in recovery. */
  todo?: string;
}

// blue-green (autoPromote, no scaleDownDelay), 2 → 2 instances:
//   0 hook preDeploy, 1 start, 2 route (preview), 3 route (switch), 4 promote, 5 stop stable, 6 hook postDeploy
// rolling (maxSurge 1, maxUnavailable 0), 2 → 2 instances:
//   0 hook preDeploy, 1 start, 2 route, 3 stop, 4 start, 5 route, 6 stop, 7 promote, 8 hook postDeploy
const KILL_POINTS: KillPoint[] = [
  { strategy: 'blue-green', at: 'hook', step: 'hook' },
  { strategy: 'blue-green', at: 'start', step: 'start' },
  { strategy: 'blue-green', at: 'route#2', step: 'route' },
  { strategy: 'blue-green', at: 'promote', step: 'promote' },
  { strategy: 'blue-green', at: 'stop', step: 'stop' },
  { strategy: 'blue-green', at: 'hook#2', step: 'hook' },
  { strategy: 'rolling', at: 'route', step: 'route' },
  { strategy: 'rolling', at: '3', step: 'stop' },
  { strategy: 'rolling', at: 'route#2', step: 'route' },
  { strategy: 'rolling', at: '7', step: 'promote' },
  { strategy: 'rolling', at: '8', step: 'hook' },
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

describe('a daemon SIGKILLed at a step of a deployment, started again', { concurrency: 3 }, () => {
  for (const point of KILL_POINTS) {
    const title = `${point.strategy}: killed at ${point.at} (a ${point.step} step) ends consistent: stable serves, history intact, no orphans, integrity ok`;
    it(title, { timeout: 90_000, ...(point.todo === undefined ? {} : { todo: point.todo }) }, async () => {
      const site = await newSite(point.strategy);
      try {
        // v1 becomes stable in a first run without the fault (its first release is a deployment too).
        await up(site);
        await waitFor(() => stableVersion(site) === 'v1', { timeout: 30_000, message: 'v1 to be stable' });
        await down(site);

        const faulty = await up(site, { SWITCHYARD_FAULT_KILL_AT: point.at });
        // Killed at the first step, the daemon may die before its 202 leaves: the store has the deployment.
        const started = await api<{ id: number }>(site, 'POST', '/api/v1/services/web/deployments', { version: 'v2' }).catch((err: Error) => err);
        if (!(started instanceof Error)) assert.equal(started.status, 202, JSON.stringify(started.body));
        const exit = await Promise.race([faulty.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 45_000).unref())]);
        assert.ok(exit !== null, `the daemon did not kill itself at ${point.at}\n${faulty.stderr().slice(-3000)}`);
        assert.equal(exit.signal, 'SIGKILL', `the daemon died by SIGKILL: ${JSON.stringify(exit)}`);
        site.daemon = null;
        const id = readDb(site, (db) => db.prepare<[], { id: number }>('SELECT max(id) AS id FROM deployments').get()!.id);
        if (!(started instanceof Error)) assert.equal(id, started.body.id);

        // What the crash left: the deployment in progress at the chosen step, and the apps still running.
        const interrupted = readDb(site, (db) =>
          db.prepare<[number], { kind: string; state: string }>("SELECT kind, state FROM steps WHERE deployment_id = ? AND state = 'running'").all(id),
        );
        assert.deepEqual(interrupted.map((s) => s.kind), [point.step], 'the chosen step was recorded running');
        const eventsBefore = events(site);
        const appsBefore = [...instanceProcesses(site.marker).keys()];
        assert.ok(appsBefore.length >= 2, 'the instances outlived the daemon');

        await up(site);
        const view = (await api<ServiceView>(site, 'GET', '/api/v1/services/web')).body;
        const record = deploymentRecord(site, id);
        const stable = stableVersion(site);

        // Finished, and in agreement with the stable release.
        assert.equal(view.deployment, null, 'no deployment runs after the restart');
        assert.equal(view.stable?.version, stable);
        if (record.state === 'rolled-back') {
          assert.match(record.reason ?? '', /daemon stopped during this deployment/);
          assert.equal(stable, record.from_version, `a rolled-back deployment leaves its source stable (reason: ${record.reason})`);
        } else {
          assert.equal(record.state, 'succeeded', `the deployment is finished: ${record.state} (${record.reason})`);
          assert.equal(stable, record.to_version, 'a succeeded deployment leaves its target stable');
        }

        // The stable release serves every request, with all its instances.
        await waitFor(async () => (await plainRequest(`${site.proxyUrl}/`)).status === 200, { timeout: 10_000, message: 'the proxy to serve' });
        const versions = new Set<string>();
        for (let i = 0; i < 8; i++) {
          const res = await plainRequest(`${site.proxyUrl}/`);
          assert.equal(res.status, 200, res.body);
          versions.add((JSON.parse(res.body) as { version: string }).version);
        }
        assert.deepEqual([...versions], [stable]);
        const live = liveInstanceRows(site);
        assert.deepEqual(new Set(live.map((i) => i.version)), new Set([stable]), 'only the stable release runs');
        assert.equal(live.length, 2, 'with all its instances');

        // No orphan: every instance process alive is one the store holds live, under the recorded PID.
        for (const pid of appsBefore) assert.ok(!instanceProcesses(site.marker).has(pid), `the old instance process ${pid} was stopped`);
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
        assert.ok(!steps.some((s) => s.state === 'running'), 'no step is left running');
        assert.equal(
          readDb(site, (db) => db.pragma('integrity_check', { simple: true })),
          'ok',
        );
      } finally {
        await down(site);
        killMarked(site.marker);
        await site.tmp.remove();
      }
    });
  }
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

// End-to-end deployment harness: a real `switchyard up` daemon (the built CLI) over a temp dir with one
// service, `web`, running real app processes; the admin API to drive deployments; the state database,
// opened read-only, to read events and instance PIDs. Teardown stops the daemon and then kills, by PID,
// every process the run left (found through the state DB and a marker in each process's environment).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import type { deploymentView, serviceView } from '../../src/api/views.js';
import type { EventRow } from '../../src/store/index.js';
import { CLI, freePort, startDaemon, tempDir, type DaemonProcess, type TempDir } from './daemon.js';
import { waitFor } from './wait.js';

/** The example app: answers {"version", "pid", "path"}; knobs in its environment (see the file). */
export const NODE_APP = fileURLToPath(new URL('../../examples/node-app/server.mjs', import.meta.url));

export type ServiceView = ReturnType<typeof serviceView>;
export type DeploymentView = ReturnType<typeof deploymentView>;
export type DeploymentDetail = DeploymentView & { events: EventRow[] };
export type DeploymentState = DeploymentView['state'];

/** Set in the daemon's environment, so every instance and hook inherits it: teardown finds them by it. */
export const MARKER_ENV = 'SY_TEST_RUN_MARKER';

export interface ServiceOptions {
  instances?: number;
  /** The release `up` starts. */
  version?: string;
  /** Default: node examples/node-app/server.mjs. */
  command?: string | string[];
  /** Extra run env over { APP_VERSION: "{version}" }. */
  env?: Record<string, string>;
  /** Merged over { path: /healthz, interval: 200ms, timeout: 1s, startTimeout: 30s }. */
  health?: Record<string, unknown>;
  drainTimeout?: string;
  stopTimeout?: string;
  /** The service's `deploy` section as written in switchyard.yaml. */
  deploy?: Record<string, unknown>;
  /** Files written into the temp dir (the instances' cwd) before the daemon starts, e.g. an app. */
  files?: Record<string, string>;
}

export interface InstanceRecord {
  id: string;
  releaseNumber: number;
  version: string;
  pid: number | null;
  state: string;
}

export interface ProxyAnswer {
  status: number;
  version: string | null;
  body: string;
}

export class Switchyard {
  private readonly agent = new Agent({ connections: 4 });

  private constructor(
    readonly tmp: TempDir,
    readonly configFile: string,
    readonly proxyUrl: string,
    readonly adminUrl: string,
    private readonly marker: string,
    public daemon: DaemonProcess,
  ) {}

  /** Writes the config for one service `web` and starts `switchyard up` (resolves once the admin API answers). */
  static async start(options: ServiceOptions = {}): Promise<Switchyard> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json)`);
    const tmp = await tempDir('switchyard-deploy-');
    try {
      const proxyPort = await freePort();
      let adminPort = await freePort();
      while (adminPort === proxyPort) adminPort = await freePort();
      for (const [name, text] of Object.entries(options.files ?? {})) await tmp.write(name, text);
      const configFile = await tmp.write('switchyard.yaml', configText(tmp.dir, proxyPort, adminPort, options));
      const adminUrl = `http://127.0.0.1:${adminPort}`;
      const marker = tmp.dir;
      const daemon = await launch(configFile, adminUrl, tmp.dir, marker);
      return new Switchyard(tmp, configFile, `http://127.0.0.1:${proxyPort}`, adminUrl, marker, daemon);
    } catch (err) {
      killLeftovers(join(tmp.dir, 'state'), tmp.dir);
      await tmp.remove();
      throw err;
    }
  }

  get stateDir(): string {
    return join(this.tmp.dir, 'state');
  }

  /** Writes a file in the temp dir (a hook script, an app) and returns its path. */
  write(name: string, text: string): Promise<string> {
    return this.tmp.write(name, text);
  }

  // --- admin API

  async api<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await request(`${this.adminUrl}${path}`, {
      method,
      dispatcher: this.agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  /** POST a deployment of `web`; asserts 202. */
  async deploy(body: Record<string, unknown>): Promise<DeploymentView> {
    const res = await this.api<DeploymentView>('POST', '/api/v1/services/web/deployments', body);
    assert.equal(res.status, 202, `deploy ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** promote, pause, resume, abort, rollback; asserts 200. */
  async action(verb: 'promote' | 'pause' | 'resume' | 'abort' | 'rollback', body: Record<string, unknown> = {}): Promise<DeploymentView> {
    const res = await this.api<DeploymentView>('POST', `/api/v1/services/web/${verb}`, body);
    assert.equal(res.status, 200, `${verb}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async deployment(id: number): Promise<DeploymentDetail> {
    const res = await this.api<DeploymentDetail>('GET', `/api/v1/deployments/${id}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  async deployments(): Promise<DeploymentView[]> {
    const res = await this.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/services/web/deployments?limit=500');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.deployments;
  }

  async service(): Promise<ServiceView> {
    const res = await this.api<ServiceView>('GET', '/api/v1/services/web');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  /** Polls the deployment until it is in one of `states`. */
  async waitFor(id: number, states: DeploymentState[], timeout = 60_000): Promise<DeploymentDetail> {
    let last: DeploymentDetail | undefined;
    try {
      return await waitFor(
        async () => {
          last = await this.deployment(id);
          return states.includes(last.state) ? last : undefined;
        },
        { timeout, interval: 100, message: `deployment ${id} to be ${states.join(' or ')}` },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last seen: ${last?.state} (${last?.reason})\n${this.logTail()}`);
    }
  }

  /** Polls until the deployment has ended; returns it. */
  finished(id: number, timeout = 60_000): Promise<DeploymentDetail> {
    return this.waitFor(id, ['succeeded', 'rolled-back', 'failed'], timeout);
  }

  /** Instances of `web` as the daemon holds them (live ones), with their version. */
  async liveInstances(): Promise<{ id: string; version: string; state: string; pid: number | null; inRotation: boolean }[]> {
    const view = await this.service();
    return view.releases.flatMap((r) => r.instances.map((i) => ({ id: i.id, version: r.version, state: i.state, pid: i.pid, inRotation: i.inRotation })));
  }

  // --- the proxy

  /** One GET through the proxy; the version from the JSON body. */
  async get(path = '/', headers: Record<string, string> = {}): Promise<ProxyAnswer> {
    const res = await request(`${this.proxyUrl}${path}`, { dispatcher: this.agent, headers, headersTimeout: 15_000, bodyTimeout: 15_000 });
    const body = await res.body.text();
    let version: string | null = null;
    try {
      const parsed = JSON.parse(body) as { version?: unknown };
      if (typeof parsed.version === 'string') version = parsed.version;
    } catch {
      // Not JSON.
    }
    return { status: res.statusCode, version, body };
  }

  /** Versions answering `count` GETs in a row. */
  async versions(count: number, headers: Record<string, string> = {}): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < count; i++) {
      const answer = await this.get('/', headers);
      assert.equal(answer.status, 200, answer.body);
      seen.push(String(answer.version));
    }
    return seen;
  }

  // --- the state database, read-only

  /** Runs `read` on a read-only connection to the daemon's state DB. */
  readDb<T>(read: (db: Database.Database) => T): T {
    const db = new Database(join(this.stateDir, 'state.db'), { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      return read(db);
    } finally {
      db.close();
    }
  }

  /** Every event of the service (and the daemon's own), oldest first. */
  events(): EventRow[] {
    return this.readDb((db) =>
      db
        .prepare<[], { id: number; time: string; service: string | null; deployment_id: number | null; instance_id: string | null; type: string; message: string; data: string | null }>(
          'SELECT * FROM events ORDER BY id',
        )
        .all()
        .map((r) => ({
          id: r.id,
          time: r.time,
          service: r.service,
          deploymentId: r.deployment_id,
          instanceId: r.instance_id,
          type: r.type,
          message: r.message,
          data: r.data === null ? null : (JSON.parse(r.data) as unknown),
        })),
    );
  }

  /** Every instance ever recorded, with its release. */
  instanceRecords(): InstanceRecord[] {
    return this.readDb((db) =>
      db
        .prepare<[], InstanceRecord>(
          'SELECT i.id, r.number AS releaseNumber, r.version, i.pid, i.state FROM instances i JOIN releases r ON r.id = i.release_id ORDER BY i.created_at, i.id',
        )
        .all(),
    );
  }

  releaseCount(): number {
    return this.readDb((db) => db.prepare<[], { n: number }>('SELECT count(*) AS n FROM releases').get()!.n);
  }

  /** Live processes this run started (the daemon, instances, hooks) whose environment also holds every `also` entry. */
  processes(also: string[] = []): number[] {
    return markedProcesses(this.marker, also);
  }

  // --- lifecycle

  /** The last lines of the daemon's log, for failure messages. */
  logTail(lines = 40): string {
    return `--- daemon log (tail) ---\n${this.daemon.stderr().trim().split('\n').slice(-lines).join('\n')}`;
  }

  /** SIGKILLs the daemon (its app processes keep running, as after a crash) and waits for it to exit. */
  async crash(): Promise<void> {
    if (!this.daemonExited) this.daemon.signal('SIGKILL');
    await this.daemon.exited;
  }

  /** Starts a new daemon on the same config and state dir. */
  async restart(): Promise<void> {
    this.daemon = await launch(this.configFile, this.adminUrl, this.tmp.dir, this.marker);
  }

  /** Graceful stop (SIGTERM: the daemon drains and stops its instances), SIGKILL after 20 s; then leftovers are killed. */
  async close(): Promise<void> {
    try {
      if (!this.daemonExited) {
        this.daemon.signal('SIGTERM');
        if ((await Promise.race([this.daemon.exited, stillRunningAfter(20_000)])) === 'running') await this.daemon.kill();
      }
    } finally {
      killLeftovers(this.stateDir, this.marker);
      await this.agent.close();
      await this.tmp.remove();
    }
  }

  private get daemonExited(): boolean {
    return exitedDaemons.has(this.daemon);
  }
}

/** Daemons whose process has exited (their PID may already belong to someone else). */
const exitedDaemons = new WeakSet<DaemonProcess>();

function stillRunningAfter(ms: number): Promise<'running'> {
  return new Promise((resolve) => setTimeout(() => resolve('running'), ms).unref());
}

async function launch(configFile: string, adminUrl: string, cwd: string, marker: string): Promise<DaemonProcess> {
  const daemon = await startDaemon(configFile, { adminUrl, cwd, env: { [MARKER_ENV]: marker }, timeout: 60_000 });
  void daemon.exited.then(() => exitedDaemons.add(daemon));
  return daemon;
}

function configText(dir: string, proxyPort: number, adminPort: number, options: ServiceOptions): string {
  const config = {
    proxy: { listen: `127.0.0.1:${proxyPort}`, accessLog: { enabled: true, destination: join(dir, 'access.log') } },
    admin: { listen: `127.0.0.1:${adminPort}` },
    state: join(dir, 'state'),
    services: {
      web: {
        run: {
          command: options.command ?? [process.execPath, NODE_APP],
          cwd: dir,
          env: { APP_VERSION: '{version}', ...options.env },
          version: options.version ?? 'v1',
        },
        instances: options.instances ?? 2,
        health: { path: '/healthz', interval: '200ms', timeout: '1s', startTimeout: '30s', ...options.health },
        drain: { timeout: options.drainTimeout ?? '5s' },
        stop: { timeout: options.stopTimeout ?? '2s' },
        ...(options.deploy === undefined ? {} : { deploy: options.deploy }),
      },
    },
  };
  // JSON is YAML.
  return `${JSON.stringify(config, null, 2)}\n`;
}

// --- processes

/** True when `pid` runs (a zombie counts as gone: it is dead and only waits to be reaped). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Live processes carrying `marker` (and every `also` entry, like APP_VERSION=v2) in their environment. */
export function markedProcesses(marker: string, also: string[] = []): number[] {
  const entries = [`${MARKER_ENV}=${marker}`, ...also];
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      if (pid === process.pid) return false;
      const environ = environOf(pid);
      return entries.every((e) => environ.includes(e)) && isRunning(pid);
    });
}

/** SIGKILLs, by PID and process group, every instance in the state DB that still runs, and every marked process. */
export function killLeftovers(stateDir: string, marker: string): void {
  const pids = new Set(markedProcesses(marker));
  try {
    const db = new Database(join(stateDir, 'state.db'), { readonly: true, fileMustExist: true });
    try {
      for (const row of db.prepare<[], { id: string; pid: number | null }>('SELECT id, pid FROM instances WHERE pid IS NOT NULL').all()) {
        if (row.pid !== null && environOf(row.pid).includes(`SWITCHYARD_INSTANCE_ID=${row.id}`)) pids.add(row.pid);
      }
    } finally {
      db.close();
    }
  } catch {
    // No state DB (the daemon never got that far): the marker scan covers it.
  }
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Already gone, or not a group leader.
      }
    }
  }
}

// The shop behind a real `switchyard up`: the example's own switchyard.yaml (or another config), with
// ports, state folder, DATABASE_URL and REDIS_URL in the environment; the first schema migrated as an
// operator would before the first `up`; the admin API to deploy and roll back. Teardown stops the
// daemon (which drains and stops the shop) and kills by PID anything the run left.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { deploymentView } from '../../src/api/views.js';
import type { EventRow } from '../../src/store/index.js';
import { freePort, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { killLeftovers, MARKER_ENV } from '../helpers/deploy-harness.js';
import { waitFor } from '../helpers/wait.js';
import type { Services } from './services.js';

export const SHOP_DIR = fileURLToPath(new URL('../../examples/shop/', import.meta.url));
export const SHOP_CONFIG = join(SHOP_DIR, 'switchyard.yaml');

export type DeploymentViewOf = ReturnType<typeof deploymentView>;
export type DeploymentDetail = DeploymentViewOf & { events: EventRow[] };

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/** Stacks not closed yet, so an interrupted demo can still stop them. */
const open = new Set<ShopStack>();

export class ShopStack {
  /** Closes every stack still open (the demo's Ctrl-C). */
  static async closeAll(): Promise<void> {
    await Promise.all([...open].map((stack) => stack.close()));
  }

  private constructor(
    readonly tmp: TempDir,
    readonly proxyUrl: string,
    readonly adminUrl: string,
    readonly daemon: DaemonProcess,
  ) {}

  /** Migrates the first schema (v1), then starts switchyard on `config` (default: the example's). */
  static async start(
    services: Pick<Services, 'databaseUrl' | 'redisUrl'>,
    { config = SHOP_CONFIG, env = {} }: { config?: string | ((tmpDir: string) => Promise<string>); env?: Record<string, string> } = {},
  ): Promise<ShopStack> {
    const tmp = await tempDir('switchyard-shop-');
    const state = join(tmp.dir, 'state');
    try {
      const [proxyPort, adminPort] = await Promise.all([freePort(), freePort()]);
      const vars = {
        SHOP_PROXY_PORT: String(proxyPort),
        SHOP_ADMIN_PORT: String(adminPort),
        SHOP_STATE: state,
        DATABASE_URL: services.databaseUrl,
        REDIS_URL: services.redisUrl,
        [MARKER_ENV]: tmp.dir,
        ...env,
      };
      await migrate('v1', 'pre-deploy', vars);
      const adminUrl = `http://127.0.0.1:${adminPort}`;
      const configFile = typeof config === 'string' ? config : await config(tmp.dir);
      const daemon = await startDaemon(configFile, { adminUrl, cwd: tmp.dir, env: vars, timeout: 90_000 });
      const stack = new ShopStack(tmp, `http://127.0.0.1:${proxyPort}`, adminUrl, daemon);
      open.add(stack);
      return stack;
    } catch (err) {
      killLeftovers(state, tmp.dir);
      await tmp.remove();
      throw err;
    }
  }

  async api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const res = await request(`${this.adminUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  async deploy(service: string, body: Record<string, unknown>): Promise<DeploymentViewOf> {
    const res = await this.api<DeploymentViewOf>('POST', `/api/v1/services/${service}/deployments`, body);
    if (res.status !== 202) throw new Error(`deploy ${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async deployment(id: number): Promise<DeploymentDetail> {
    const res = await this.api<DeploymentDetail>('GET', `/api/v1/deployments/${id}`);
    if (res.status !== 200) throw new Error(`deployment ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Polls until the deployment ended (or `until` holds); returns it. */
  async waitFor(id: number, until: (d: DeploymentDetail) => boolean = (d) => ['succeeded', 'rolled-back', 'failed'].includes(d.state), timeout = 180_000): Promise<DeploymentDetail> {
    let last: DeploymentDetail | undefined;
    try {
      return await waitFor(async () => {
        last = await this.deployment(id);
        return until(last) ? last : undefined;
      }, { timeout, interval: 100, message: `deployment ${id}` });
    } catch (err) {
      throw new Error(`${(err as Error).message}; last seen ${last?.state} (${last?.reason})\n${this.logTail()}`);
    }
  }

  logTail(lines = 40): string {
    return `--- switchyard log (tail) ---\n${this.daemon.stderr().trim().split('\n').slice(-lines).join('\n')}`;
  }

  async close(): Promise<void> {
    if (!open.delete(this)) return;
    try {
      this.daemon.signal('SIGTERM');
      const stopped = await Promise.race([this.daemon.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000).unref())]);
      if (!stopped) await this.daemon.kill();
    } catch {
      // Already gone.
    } finally {
      killLeftovers(join(this.tmp.dir, 'state'), this.tmp.dir);
      await this.tmp.remove();
    }
  }
}

/** `node migrate.mjs PHASE` in a release's folder, as the hooks run it. */
export async function migrate(version: string, phase: 'pre-deploy' | 'post-deploy', env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [join(SHOP_DIR, 'migrate.mjs'), phase], { cwd: join(SHOP_DIR, 'releases', version), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`migrate.mjs ${phase} (${version}) exited with ${code}:\n${output}`);
  return output;
}

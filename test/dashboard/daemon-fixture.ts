// A real `switchyard up` (the built CLI) for the dashboard tests: one service, `web`, of two
// examples/node-app instances, a canary that waits at 20% until promoted, a preDeploy hook, and an
// optional admin token. Every process it starts carries a marker in its environment; teardown stops the
// daemon, then SIGKILLs by PID whatever still carries the marker.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freePort, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';

export const NODE_APP = fileURLToPath(new URL('../../examples/node-app/server.mjs', import.meta.url));
const MARKER_ENV = 'SY_DASHBOARD_TEST_MARKER';

export interface Fixture {
  adminUrl: string;
  proxyUrl: string;
  daemon: DaemonProcess;
  /** GET or POST on the admin API (with the token when there is one); the status and parsed body. */
  api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  token?: string;
  /** Canary steps instead of one indefinite wait at 20%. */
  canarySteps?: { weight: number; pause: string }[];
}

export async function startFixture({ token, canarySteps }: FixtureOptions = {}): Promise<Fixture> {
  const tmp = await tempDir('switchyard-dashboard-');
  const marker = tmp.dir;
  try {
    const [proxyPort, adminPort] = [await freePort(), await freePort()];
    const config = {
      proxy: { listen: `127.0.0.1:${proxyPort}` },
      admin: token === undefined ? { listen: `127.0.0.1:${adminPort}` } : { listen: `127.0.0.1:${adminPort}`, token },
      state: join(tmp.dir, 'state'),
      services: {
        web: {
          run: { command: [process.execPath, NODE_APP], cwd: tmp.dir, env: { APP_VERSION: '{version}' }, version: 'v1' },
          instances: 2,
          health: { path: '/healthz', interval: '200ms', timeout: '1s', startTimeout: '30s' },
          drain: { timeout: '2s' },
          stop: { timeout: '2s' },
          deploy: {
            canary: { steps: canarySteps ?? [{ weight: 20, pause: 'indefinite' }] },
            // Criteria make the waiting step an analysis, so the page has verdicts to show.
            analysis: { interval: '2s', minRequests: 10, maxErrorRate: '5%' },
            hooks: { preDeploy: 'echo "expand the schema for $SWITCHYARD_VERSION"; echo "3 tables checked"' },
          },
        },
      },
    };
    // JSON is YAML.
    const file = await tmp.write('switchyard.yaml', `${JSON.stringify(config, null, 2)}\n`);
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    const daemon = await startDaemon(file, { adminUrl, cwd: tmp.dir, env: { [MARKER_ENV]: marker }, timeout: 60_000 });
    return fixture(tmp, marker, daemon, adminUrl, `http://127.0.0.1:${proxyPort}`, token);
  } catch (err) {
    killMarked(marker);
    await tmp.remove();
    throw err;
  }
}

function fixture(tmp: TempDir, marker: string, daemon: DaemonProcess, adminUrl: string, proxyUrl: string, token: string | undefined): Fixture {
  let exited = false;
  void daemon.exited.then(() => (exited = true));
  return {
    adminUrl,
    proxyUrl,
    daemon,
    api: async <T>(method: 'GET' | 'POST', path: string, body?: unknown) => {
      const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await request(`${adminUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), reset: true });
      const text = await res.body.text();
      return { status: res.statusCode, body: (text === '' ? undefined : JSON.parse(text)) as T };
    },
    close: async () => {
      try {
        if (!exited) {
          daemon.signal('SIGTERM');
          const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 15_000).unref());
          if ((await Promise.race([daemon.exited, timer])) === 'late') await daemon.kill();
        }
      } finally {
        killMarked(marker);
        await tmp.remove();
      }
    },
  };
}

/** SIGKILLs, by PID, every live process whose environment carries this run's marker. */
function killMarked(marker: string): void {
  const entry = `${MARKER_ENV}=${marker}`;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!environ.includes(entry)) continue;
    try {
      process.kill(Number(name), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

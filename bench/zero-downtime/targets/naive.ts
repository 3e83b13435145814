// The naive baseline: one app process on a fixed port, and a "deploy" is stop-then-start: SIGTERM
// (the app finishes in-flight requests), wait for the exit, start the new version, wait for /healthz.
import { freePort, spawnPinned, stop, waitForHttp200, type Spawned } from '../../proxy/processes.js';
import { APP } from './switchyard.js';

/** Time the old process gets after SIGTERM before SIGKILL (switchyard's drain + stop timeouts). */
const STOP_GRACE_MS = 9000;

export class NaiveTarget {
  private constructor(
    readonly port: number,
    private proc: Spawned,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(version: string): Promise<NaiveTarget> {
    const port = await freePort();
    return new NaiveTarget(port, await launch(port, version));
  }

  /** Stop, then start `version` on the same port; resolves once it answers /healthz. */
  async restart(version: string): Promise<void> {
    await stop(this.proc, STOP_GRACE_MS);
    this.proc = await launch(this.port, version);
  }

  async close(): Promise<void> {
    await stop(this.proc, STOP_GRACE_MS);
  }
}

async function launch(port: number, version: string): Promise<Spawned> {
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', APP_VERSION: version };
  const proc = spawnPinned(`naive-app ${version}`, undefined, process.execPath, [APP], env);
  await waitForHttp200(proc, `http://127.0.0.1:${port}/healthz`, 15_000);
  return proc;
}

// Switchyard as the system under test: a temp config for one service, `web`, running the Node example
// app with 2 instances behind 2 proxy workers, short health intervals and drain timeouts so a deploy
// takes seconds. The daemon carries a marker in its environment (so do its apps): after an upgrade its
// keeper is no child of the bench, and it is found, observed and stopped through that marker.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, spawnPinned, waitForHttp200, type Spawned } from '../../proxy/processes.js';
import { AdminClient } from '../admin.js';
import { MarkedProcesses, MARKER_ENV, signal, type Marked } from '../marked.js';

export const APP = resolve(import.meta.dirname, '../../../examples/node-app/server.mjs');

/** The knobs a deploy cycle depends on; in one place so the figures can say what they ran with. */
export const SWITCHYARD_SETTINGS = {
  instances: 2,
  proxyWorkers: 2,
  healthInterval: '200ms',
  startTimeout: '4s',
  /** Also how long an old generation drains after an upgrade: longer than the slowest request (5 s). */
  drainTimeout: '6s',
  stopTimeout: '3s',
  scaleDownDelay: '10s',
  canarySteps: '[ { weight: 20, pause: 2s }, { weight: 60, pause: 2s } ]',
  analysis: '{ interval: 1s, minRequests: 20, maxErrorRate: 5%, failureLimit: 1, inconclusiveLimit: 4, onInconclusive: pass }',
} as const;

export const DRAIN_MS = 6000;

/** A graceful stop drains (6 s), then stops the instances (drain 6 s + stop 3 s each); SIGKILL after this. */
const STOP_GRACE_MS = 30_000;

export function switchyardConfig(ports: { proxy: number; admin: number }, dir: string): string {
  const s = SWITCHYARD_SETTINGS;
  return `proxy:
  listen: 127.0.0.1:${ports.proxy}
  workers: ${s.proxyWorkers}
  accessLog: { enabled: false }
admin:
  listen: 127.0.0.1:${ports.admin}
state: ${join(dir, 'state')}
services:
  web:
    run:
      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(APP)}]
      env: { APP_VERSION: "{version}" }
      version: v1
    instances: ${s.instances}
    health: { path: /healthz, interval: ${s.healthInterval}, timeout: 1s, startTimeout: ${s.startTimeout} }
    drain: { timeout: ${s.drainTimeout} }
    stop: { timeout: ${s.stopTimeout} }
    deploy:
      blueGreen: { scaleDownDelay: ${s.scaleDownDelay} }
      canary:
        steps: ${s.canarySteps}
      analysis: ${s.analysis}
      progressDeadline: 60s
`;
}

/** A running switchyard daemon of this bench run, whichever generation serves now. */
export class SwitchyardDaemon {
  readonly admin: AdminClient;
  /** `NAME=value` in the environment of every process of this daemon and of its apps. */
  readonly marker: string;
  readonly drainMs = DRAIN_MS;
  private readonly marked: MarkedProcesses;
  private constructor(
    private readonly cli: string,
    private readonly config: string,
    readonly url: string,
    readonly adminUrl: string,
    dir: string,
    /** The last `up` the bench started (generation 1 of its run; it exits after an upgrade). */
    private proc: Spawned,
  ) {
    this.admin = new AdminClient(adminUrl);
    this.marker = markerOf(dir);
    this.marked = new MarkedProcesses(this.marker);
  }

  /** Starts `switchyard up` in `dir` and waits until the proxy answers 200 from the first release. */
  static async start(cli: string, dir: string): Promise<SwitchyardDaemon> {
    const ports = { proxy: await freePort(), admin: await freePort() };
    mkdirSync(join(dir, 'state'), { recursive: true });
    const config = join(dir, 'switchyard.yaml');
    writeFileSync(config, switchyardConfig(ports, dir));
    const url = `http://127.0.0.1:${ports.proxy}`;
    const daemon = new SwitchyardDaemon(cli, config, url, `http://127.0.0.1:${ports.admin}`, dir, launch(cli, config, markerOf(dir)));
    try {
      await waitForHttp200(daemon.proc, `${url}/`, 30_000);
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    return daemon;
  }

  /** This run's processes now: switchyard's own of every generation, and the app instances. */
  processes(): Marked {
    return this.marked.scan();
  }

  /** Today's restart: SIGTERM (the daemon drains and stops its apps), then `up` again until it answers. */
  async restart(): Promise<void> {
    await this.stop();
    this.proc = launch(this.cli, this.config, this.marker);
    await waitForHttp200(this.proc, `${this.url}/`, 30_000);
  }

  /**
   * SIGTERM to the keeper serving now (whose PID the daemon reports, or the newest one in /proc), then
   * waits for every process of the run to exit; SIGKILL by PID for whatever is left after the grace time.
   */
  async stop(): Promise<void> {
    const keeper = await this.keeperPid();
    if (keeper !== null) signal(keeper, 'SIGTERM');
    const deadline = Date.now() + STOP_GRACE_MS;
    while (Date.now() < deadline && this.processes().all.length > 0) await sleep(100);
    this.killNow();
    await Promise.race([this.proc.exited, sleep(2000)]);
  }

  /** Synchronous last resort: SIGKILL every process of the run by PID. */
  killNow(): void {
    this.marked.killAll();
  }

  private async keeperPid(): Promise<number | null> {
    const view = await this.admin.daemon(2000).catch(() => null);
    const reported = view?.processes.find((p) => p.role === 'keeper')?.pid;
    if (reported !== undefined) return reported;
    const keepers = this.processes().switchyard.filter((p) => p.role === 'keeper');
    return keepers.sort((a, b) => (b.generation ?? 0) - (a.generation ?? 0))[0]?.pid ?? null;
  }
}

function markerOf(dir: string): string {
  return `${MARKER_ENV}=${dir}`;
}

function launch(cli: string, config: string, marker: string): Spawned {
  const [name, value] = [marker.slice(0, marker.indexOf('=')), marker.slice(marker.indexOf('=') + 1)];
  const env = { ...process.env, NODE_ENV: 'production', NO_COLOR: '1', [name]: value };
  return spawnPinned('switchyard', undefined, process.execPath, [cli, 'up', '-c', config], env);
}

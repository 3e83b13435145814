// PM2 as the baseline people use today: installed from npm into a temp dir at bench time (never
// globally, never into the project), its own daemon with PM2_HOME in that dir, cluster mode with 2
// instances of the example app; `pm2 reload` as the deploy, `pm2 update` (PM2 replacing its own
// daemon, the apps restarted with it) as the upgrade. Its daemon is ended by PID afterwards.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { descendantsOf } from '../../proxy/cpu.js';
import { freePort } from '../../proxy/processes.js';
import { APP } from './switchyard.js';

/** The same grace switchyard gives a leaving instance (drain 6 s + stop 3 s), as PM2's kill_timeout. */
export const PM2_KILL_TIMEOUT_MS = 9000;
export const PM2_SPEC = 'pm2@6';

export interface Pm2Install {
  bin: string;
  version: string;
}

/** `npm install --prefix DIR pm2@6`: the registry through npm, bounded by a timeout. */
export async function installPm2(dir: string): Promise<Pm2Install> {
  await run('npm', ['install', '--prefix', dir, PM2_SPEC, '--no-audit', '--no-fund', '--no-save', '--loglevel=error'], { timeoutMs: 300_000 });
  const root = join(dir, 'node_modules', 'pm2');
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  return { bin: join(root, 'bin', 'pm2'), version };
}

export class Pm2Target {
  private constructor(
    private readonly pm2: Pm2Install,
    private readonly home: string,
    private readonly ecosystem: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts PM2's daemon and the app in cluster mode (2 instances); resolves when it answers. */
  static async start(pm2: Pm2Install, dir: string, version: string): Promise<Pm2Target> {
    const target = new Pm2Target(pm2, join(dir, 'pm2-home'), join(dir, 'ecosystem.config.cjs'), await freePort());
    target.writeEcosystem(version);
    await target.cli(['start', target.ecosystem]);
    return target;
  }

  /** A deploy: the new version's env in the ecosystem file, then `pm2 reload --update-env`. */
  async reload(version: string): Promise<void> {
    this.writeEcosystem(version);
    await this.cli(['reload', this.ecosystem, '--update-env']);
  }

  /** PM2's own upgrade: saves the process list, kills its daemon (and the apps), starts it again and resurrects. */
  async update(): Promise<void> {
    await this.cli(['update']);
  }

  /** `pm2 kill`, then SIGKILL by PID for the daemon and anything it left behind. */
  async close(): Promise<void> {
    const pids = this.pids();
    await this.cli(['kill'], 30_000).catch(() => undefined);
    for (const pid of pids) signal(pid, 'SIGKILL');
  }

  /** Synchronous last resort for process exit: SIGKILL the daemon and its workers by PID. */
  killNow(): void {
    for (const pid of this.pids()) signal(pid, 'SIGKILL');
  }

  /** PM2's daemon (from PM2_HOME/pm2.pid) and its descendants, the app workers. */
  pids(): number[] {
    const god = this.daemonPid();
    return god === null ? [] : [god, ...descendantsOf(god)];
  }

  /** The app workers: the daemon's descendants. */
  appPids(): number[] {
    const god = this.daemonPid();
    return god === null ? [] : descendantsOf(god);
  }

  private daemonPid(): number | null {
    const file = join(this.home, 'pm2.pid');
    if (!existsSync(file)) return null;
    const god = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(god) && god > 0 ? god : null;
  }

  private writeEcosystem(version: string): void {
    const app = {
      name: 'web',
      script: APP,
      exec_mode: 'cluster',
      instances: 2,
      kill_timeout: PM2_KILL_TIMEOUT_MS,
      autorestart: true,
      env: { PORT: String(this.port), HOST: '127.0.0.1', APP_VERSION: version },
    };
    writeFileSync(this.ecosystem, `module.exports = ${JSON.stringify({ apps: [app] }, null, 2)};\n`);
  }

  private cli(args: string[], timeoutMs = 120_000): Promise<string> {
    // PM2_KILL_SIGNAL: the example app stops gracefully on SIGTERM; PM2's default is SIGINT.
    const env = { ...process.env, PM2_HOME: this.home, PM2_KILL_SIGNAL: 'SIGTERM', PM2_DISABLE_UPDATE_CHECK: 'true' };
    return run(process.execPath, [this.pm2.bin, ...args, '--no-color'], { timeoutMs, env });
  }
}

function run(file: string, args: string[], o: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: o.timeoutMs, killSignal: 'SIGKILL', env: o.env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[file, ...args].join(' ')} failed: ${err.message}\n${stderr}${stdout}`.slice(0, 4000)));
      else resolve(stdout);
    });
  });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

// What the bench does to switchyard itself, under load: an upgrade (`POST /api/v1/daemon/upgrade`,
// followed until the new generation serves and the old one has exited) and a SIGKILL of the controller
// (followed until another controller answers). Each records whether every app instance kept its process
// (the apps are adopted, never restarted, invariant 11) and how many switchyard processes ran meanwhile.
import { setTimeout as sleep } from 'node:timers/promises';
import { poll, type AdminClient, type DaemonView } from './admin.js';
import type { AppProcess, Marked } from './marked.js';

export interface DaemonHandle {
  admin: AdminClient;
  processes(): Marked;
  /** How long an old generation may drain (the longest drain timeout). */
  drainMs: number;
}

/** Which app processes ran before and after, by instance id, and what changed. */
export interface AppsCheck {
  before: AppProcess[];
  after: AppProcess[];
  /** Instances running before and after under the same PID. */
  kept: number;
  /** Violations: an instance whose PID changed, one gone or one started that no deployment explains. */
  problems: string[];
  /** Instances of the outgoing release the deployment stopped meanwhile, and of its target it started. */
  stoppedByDeploy: string[];
  startedByDeploy: string[];
}

/** The deployment running meanwhile, whose own starts and stops are not the upgrade's doing. */
export interface DeployVersions {
  from: string | null;
  to: string | null;
}

export interface UpgradeRecord {
  from: number;
  to: number;
  /** Milliseconds since the load started. */
  requestedAt: number;
  /** When the bench first saw the new generation report itself serving (GET /api/v1/daemon). */
  servingAt: number | null;
  /** requestedAt → servingAt. */
  durationMs: number | null;
  /** The daemon's own account: upgrade.startedAt → upgrade.finishedAt. */
  daemonMs: number | null;
  /** When the last process of the old generation was gone. */
  oldExitedAt: number | null;
  /** 'succeeded', 'failed: <reason>' or 'error: <what the bench could not do>'. */
  outcome: string;
  apps: AppsCheck | null;
  /** The processes of the new generation once the old one exited (keeper, controller, proxies). */
  processesAfter: number | null;
}

export interface ControllerKill {
  pid: number;
  /** Milliseconds since the load started. */
  at: number;
  /** The step that was running: "3 stop: ...". */
  step: string;
  /** When another controller answered the admin API. */
  backAt: number | null;
  newPid: number | null;
  apps: AppsCheck | null;
}

const VIEW_TIMEOUT_MS = 2000;
const FOLLOW_MS = 150_000;
/** The old generation exits once drained; beyond its drain timeouts, this is the margin it gets. */
const EXIT_MARGIN_MS = 15_000;

/**
 * One upgrade: asks for it, follows it until the new generation serves, checks the apps kept their
 * processes, and (unless `waitExit` is false) waits for the old generation's processes to exit.
 */
export async function upgrade(d: DaemonHandle, now: () => number, deploy: DeployVersions = { from: null, to: null }, waitExit = true): Promise<UpgradeRecord> {
  const before = await d.admin.daemon();
  const appsBefore = d.processes().apps;
  const record: UpgradeRecord = {
    from: before.generation,
    to: before.generation + 1,
    requestedAt: now(),
    servingAt: null,
    durationMs: null,
    daemonMs: null,
    oldExitedAt: null,
    outcome: 'pending',
    apps: null,
    processesAfter: null,
  };
  try {
    await d.admin.upgrade();
    const ended = await poll(async () => {
      const view = await d.admin.daemon(VIEW_TIMEOUT_MS);
      return view.upgrade?.generation === record.to && view.upgrade.state !== 'in-progress' ? view : undefined;
    }, `the upgrade to generation ${record.to} to end`, FOLLOW_MS, 20);
    const upgradeView = ended.upgrade!;
    if (upgradeView.state === 'failed') {
      record.outcome = `failed: ${upgradeView.reason ?? 'no reason given'}`;
      return record;
    }
    record.servingAt = now();
    record.durationMs = record.servingAt - record.requestedAt;
    if (upgradeView.finishedAt !== null) record.daemonMs = Date.parse(upgradeView.finishedAt) - Date.parse(upgradeView.startedAt);
    record.apps = compareApps(appsBefore, d.processes().apps, deploy);
    record.outcome = 'succeeded';
    if (waitExit) {
      record.oldExitedAt = await oldGenerationGone(d, record.from, now);
      record.processesAfter = d.processes().switchyard.length;
    }
  } catch (err) {
    record.outcome = `error: ${err instanceof Error ? err.message : String(err)}`;
  }
  return record;
}

/** Waits until no process of generation `generation` or older runs; when that was (ms since load start). */
export async function oldGenerationGone(d: DaemonHandle, generation: number, now: () => number): Promise<number> {
  return poll(
    async () => (d.processes().switchyard.some((p) => p.generation !== null && p.generation <= generation) ? undefined : now()),
    `generation ${generation} to exit after its drain`,
    // What was in flight at the hand-over drains for one drain timeout; a request begun after it, another.
    2 * d.drainMs + EXIT_MARGIN_MS,
    100,
  );
}

/** SIGKILLs the controller process and waits for another one to answer; the deploy goes on meanwhile. */
export async function killController(d: DaemonHandle, now: () => number, step: string, deploy: DeployVersions): Promise<ControllerKill> {
  const view: DaemonView = await d.admin.daemon();
  const pid = view.processes.find((p) => p.role === 'controller')!.pid;
  const appsBefore = d.processes().apps;
  process.kill(pid, 'SIGKILL');
  const kill: ControllerKill = { pid, at: now(), step, backAt: null, newPid: null, apps: null };
  const next = await poll(async () => {
    const seen = (await d.admin.daemon(VIEW_TIMEOUT_MS)).processes.find((p) => p.role === 'controller')?.pid;
    return seen !== undefined && seen !== pid ? seen : undefined;
  }, 'another controller to answer', 60_000, 20);
  kill.backAt = now();
  kill.newPid = next;
  kill.apps = compareApps(appsBefore, d.processes().apps, deploy);
  return kill;
}

/**
 * Every instance that ran before runs after under the same PID, unless the deployment explains it: an
 * instance of its outgoing release stopped, or one of its target started. Anything else is a problem.
 */
export function compareApps(before: readonly AppProcess[], after: readonly AppProcess[], deploy: DeployVersions): AppsCheck {
  const byId = (list: readonly AppProcess[]) => new Map(list.map((a) => [a.instance, a]));
  const [was, now] = [byId(before), byId(after)];
  const check: AppsCheck = { before: [...before], after: [...after], kept: 0, problems: [], stoppedByDeploy: [], startedByDeploy: [] };
  for (const [id, old] of was) {
    const current = now.get(id);
    if (current?.pid === old.pid) check.kept++;
    else if (current !== undefined) check.problems.push(`${id} (${old.version}) restarted: pid ${old.pid} → ${current.pid}`);
    else if (deploy.from !== null && old.version === deploy.from) check.stoppedByDeploy.push(id);
    else check.problems.push(`${id} (${old.version}, pid ${old.pid}) is gone`);
  }
  for (const [id, started] of now) {
    if (was.has(id)) continue;
    if (deploy.to !== null && started.version === deploy.to) check.startedByDeploy.push(id);
    else check.problems.push(`${id} (${started.version}, pid ${started.pid}) was started`);
  }
  return check;
}

/** Samples how many switchyard processes run (every generation), to show the count stays bounded. */
export class ProcessCount {
  readonly samples: { at: number; count: number; generations: number }[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(d: DaemonHandle, now: () => number, everyMs = 250) {
    this.done = (async () => {
      while (!this.stopped) {
        const procs = d.processes().switchyard;
        this.samples.push({ at: now(), count: procs.length, generations: new Set(procs.map((p) => p.generation)).size });
        await sleep(everyMs);
      }
    })();
  }

  get max(): number {
    return Math.max(0, ...this.samples.map((s) => s.count));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

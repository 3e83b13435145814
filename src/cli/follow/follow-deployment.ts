// Follows one deployment to its end: the event stream for promptness, a poll of the deployment (every
// second and after each event) for the authoritative state. Ctrl-C stops following, not the deployment.
import type { AdminClient } from '../admin-client.js';
import { FINAL_STATES, type DeploymentDetail, type DeploymentView, type EventView, type ServiceView } from '../api-types.js';
import { UnreachableError } from '../cli-error.js';
import { feedEvents } from './event-feed.js';
import type { Reporter } from './reporter.js';
import { sleep } from './sleep.js';

export interface FollowResult {
  /** The last snapshot: final unless interrupted. */
  detail: DeploymentDetail;
  interrupted: boolean;
}

export interface FollowOptions {
  pollMs?: number;
  /** How long the daemon may stay unreachable (a restart) before following gives up. */
  patienceMs?: number;
}

/** Polls no more often than this, however many events arrive. */
const MIN_GAP_MS = 100;

export async function followDeployment(client: AdminClient, start: DeploymentView, reporter: Reporter, options: FollowOptions = {}): Promise<FollowResult> {
  const { pollMs = 1000, patienceMs = 10_000 } = options;
  const stop = new AbortController();
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
    stop.abort();
  };
  process.on('SIGINT', onInterrupt);
  const seen = new Set<number>();
  const show = (event: EventView) => {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    reporter.event(event);
  };
  const wake = new Wakeup();
  const feed = feedEvents(client, start.service, (event) => {
    if (!belongs(event, start)) return;
    show(event);
    wake.wake();
  }, stop.signal);

  let detail: DeploymentDetail = { ...start, events: [] };
  let failingSince: number | undefined;
  try {
    while (!stop.signal.aborted) {
      wake.clear();
      try {
        const signal = stop.signal;
        const [next, service] = await Promise.all([
          client.get<DeploymentDetail>(`/api/v1/deployments/${start.id}`, { signal }),
          reporter.wantsService ? client.get<ServiceView>(`/api/v1/services/${encodeURIComponent(start.service)}`, { signal }) : undefined,
        ]);
        failingSince = undefined;
        for (const event of next.events) show(event);
        detail = next;
        reporter.update(next, service);
        if (FINAL_STATES.has(next.state)) break;
      } catch (err) {
        if (stop.signal.aborted) break;
        if (!(err instanceof UnreachableError)) throw err;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > patienceMs) throw err;
      }
      await wake.wait(pollMs, stop.signal);
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    stop.abort();
    await feed;
    reporter.end();
  }
  return { detail, interrupted };
}

/** The deployment's own events, and what its service's instances did since it began. */
function belongs(event: EventView, deployment: DeploymentView): boolean {
  if (event.deploymentId !== null) return event.deploymentId === deployment.id;
  // Some instance events carry no service, but instance ids begin with it: `web-3-1`.
  if (event.instanceId === null || !event.instanceId.startsWith(`${deployment.service}-`)) return false;
  return event.time >= deployment.createdAt;
}

/** Sleeps until the next poll is due or an event asks for one early. */
class Wakeup {
  private pending = false;
  private resolve: (() => void) | undefined;

  wake(): void {
    this.pending = true;
    this.resolve?.();
  }

  clear(): void {
    this.pending = false;
  }

  async wait(ms: number, signal: AbortSignal): Promise<void> {
    await sleep(MIN_GAP_MS, signal);
    if (this.pending || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.resolve = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms - MIN_GAP_MS);
      this.resolve = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

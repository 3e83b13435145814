// Samples the proxy's own routing table (GET /api/v1/routing) as fast as the daemon answers, with the
// times each sample was asked for and received, so a test can say what the data plane routed by when.
import { Agent, request } from 'undici';
import type { RoutingView } from '../../src/api/wire.js';

export interface RoutingSample {
  /** Date.now() when the sample was asked for and when it arrived: the table was current in between. */
  sentAt: number;
  receivedAt: number;
  view: RoutingView;
}

export class RoutingSampler {
  readonly samples: RoutingSample[] = [];
  private stopped = false;
  private readonly agent = new Agent({ connections: 1 });
  private readonly done: Promise<void>;

  /** Bounded: at most `maxSamples` and `maxDurationMs`, one request at a time, `intervalMs` apart. */
  constructor(adminUrl: string, { intervalMs = 20, maxSamples = 20_000, maxDurationMs = 180_000 } = {}) {
    const started = Date.now();
    this.done = (async () => {
      while (!this.stopped && this.samples.length < maxSamples && Date.now() - started < maxDurationMs) {
        const sentAt = Date.now();
        const res = await request(`${adminUrl}/api/v1/routing`, { dispatcher: this.agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
        const view = (await res.body.json()) as RoutingView;
        this.samples.push({ sentAt, receivedAt: Date.now(), view });
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
  }

  async stop(): Promise<RoutingSample[]> {
    this.stopped = true;
    await this.done;
    await this.agent.close();
    return this.samples;
  }
}

/** Endpoint ids anywhere in a sampled table (any release, any weight). */
export function endpointIds(view: RoutingView): Set<string> {
  const ids = new Set<string>();
  for (const service of Object.values(view.services)) for (const r of service.releases) for (const e of r.endpoints) ids.add(e.id);
  return ids;
}

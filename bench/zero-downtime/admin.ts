// A small client for the admin API routes the bench drives (DESIGN.md, "Admin API"): deploy, read a
// deployment or a service, pause, abort, rollback; the daemon's processes and its upgrade. Every call
// has a timeout.
import { request } from 'undici';
import type { DaemonView, UpgradeView } from '../../src/api/daemon-view.js';

export type { DaemonView, UpgradeView };

export interface InstanceView {
  id: string;
  state: string;
  healthy: boolean;
  inRotation: boolean;
  pid: number | null;
}

export interface ReleaseView {
  number: number;
  version: string;
  role: 'stable' | 'target' | 'standby' | 'other';
  traffic: number;
  instances: InstanceView[];
}

export interface ServiceView {
  name: string;
  stable: { number: number; version: string } | null;
  releases: ReleaseView[];
  deployment: DeploymentView | null;
  /** The previous release, kept out of rotation after a blue-green switch for an instant rollback. */
  standby: { version: string; number: number; until: string } | null;
}

export interface DeploymentEvent {
  time: string;
  type: string;
  message: string;
}

export interface DeploymentView {
  id: number;
  kind: 'deploy' | 'rollback';
  strategy: string;
  state: string;
  reason: string | null;
  currentStep: number;
  steps: { index: number; kind: string; description: string; state: string }[];
  events?: DeploymentEvent[];
}

export const FINAL_STATES = ['succeeded', 'rolled-back', 'failed'];

export class AdminClient {
  constructor(private readonly base: string) {}

  deploy(service: string, body: { version: string; strategy?: string; env?: Record<string, string> }): Promise<DeploymentView> {
    return this.call('POST', `/api/v1/services/${service}/deployments`, body, 202);
  }

  deployment(id: number): Promise<DeploymentView> {
    return this.call('GET', `/api/v1/deployments/${id}`);
  }

  service(name: string): Promise<ServiceView> {
    return this.call('GET', `/api/v1/services/${name}`);
  }

  daemon(timeoutMs?: number): Promise<DaemonView> {
    return this.call('GET', '/api/v1/daemon', undefined, 200, timeoutMs);
  }

  /** Asks for a switchyard upgrade (202 once the keeper started the next generation). */
  upgrade(): Promise<{ message: string; upgrade: UpgradeView }> {
    return this.call('POST', '/api/v1/daemon/upgrade', {}, 202);
  }

  action(service: string, verb: 'pause' | 'abort' | 'rollback' | 'promote' | 'resume'): Promise<DeploymentView> {
    return this.call('POST', `/api/v1/services/${service}/${verb}`, {});
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, expect = 200, timeoutMs = 10_000): Promise<T> {
    const res = await request(`${this.base}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      // No kept-alive admin connection may hold up the daemon's graceful stop at the end.
      reset: true,
    });
    const json = (await res.body.json()) as T & { error?: { code: string; message: string } };
    if (res.statusCode !== expect) throw new Error(`${method} ${path}: ${res.statusCode} ${json.error?.code ?? ''} ${json.error?.message ?? ''}`.trim());
    return json;
  }
}

/** Polls `check` every `everyMs` until it returns a value, or throws after `timeoutMs` naming `what`. */
export async function poll<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
}

// An endpoint is an instance as the proxy sees it: address, weight, health, in-flight count, draining flag.
// It outlives routing tables: a table swap reuses the Endpoint objects of instances that stay.
import { Pool } from 'undici';
import { stickyKeyFor } from './hashing.js';
import { createUpstream } from './upstream/choose-client.js';
import type { Upstream } from './upstream/connection.js';

/** Something in flight on an endpoint that a drain may have to cut at its deadline. */
export interface Cuttable {
  /** Ends the exchange now: HTTP closes the client connection, a WebSocket sends close 1001 first. */
  cut(): void;
  /**
   * Its endpoint's host left the cluster and does not answer. True when this ended it: an idempotent
   * request that got nothing yet fails now as a reset, to be tried on another instance. Anything else
   * (a POST, a response under way, a WebSocket) waits on: the host may only be cut off for a while, and
   * its answer may still come.
   */
  lose(): boolean;
}

export interface UpstreamTimeouts {
  connect: number;
  /** Upstream keep-alive idle time; below the app's own (commonly 5 s) so the app never closes first. */
  keepAlive: number;
  /** Speak TLS to the instance, verified against these CAs (default: the system's) and this name. */
  tls?: UpstreamTls | null;
}

export interface UpstreamTls {
  ca?: string;
  serverName?: string;
}

/** Floor of the slow-start ramp, so a fresh endpoint still gets some traffic to prove itself. */
const SLOW_START_FLOOR = 0.1;

export class Endpoint {
  /** Opaque id that is safe to show to clients (sticky cookies); never the address. */
  readonly stickyKey: string;
  /** WebSocket handshakes (upgrades) go through undici. */
  readonly pool: Pool;
  /** Plain HTTP requests: the lean client (Node's native parser), or undici if that failed its self-test. */
  readonly upstream: Upstream;

  weight: number;
  /** Requests and WebSockets currently using this endpoint. */
  inFlight = 0;
  /** From the routing table (the controller's health checks); false until a check has passed (invariant 1). */
  healthy = false;
  healthySince = 0;
  slowStartMs = 0;
  /** Passive outlier detection state. */
  ejectedUntil = 0;
  ejectionCount = 0;
  consecutiveFailures = 0;
  /** Out of rotation for good: it only finishes what it has. */
  draining = false;
  readonly active = new Set<Cuttable>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly id: string,
    readonly address: string,
    weight: number,
    timeouts: UpstreamTimeouts,
  ) {
    this.weight = weight;
    this.stickyKey = stickyKeyFor(id);
    const tls = timeouts.tls ?? null;
    this.pool = new Pool(`${tls ? 'https' : 'http'}://${address}`, {
      connect: tls ? { ca: tls.ca, servername: tls.serverName } : undefined,
      connectTimeout: timeouts.connect,
      keepAliveTimeout: timeouts.keepAlive,
      keepAliveMaxTimeout: timeouts.keepAlive,
      // Trust the app's own keep-alive hint only with a margin, to avoid reusing a socket it is closing.
      keepAliveTimeoutThreshold: 1000,
      pipelining: 1,
    });
    const colon = address.lastIndexOf(':');
    this.upstream = createUpstream(
      {
        host: address.slice(0, colon).replace(/^\[|\]$/g, ''),
        port: Number(address.slice(colon + 1)),
        connectTimeout: timeouts.connect,
        keepAliveTimeout: timeouts.keepAlive,
        tls,
      },
      this.pool,
    );
  }

  /** True when new requests may be sent here. */
  isAvailable(now: number): boolean {
    return this.healthy && !this.draining && this.ejectedUntil <= now;
  }

  /** Weight after slow start: ramps linearly from 10% to 100% over slowStartMs after becoming healthy. */
  effectiveWeight(now: number): number {
    if (this.slowStartMs <= 0) return this.weight;
    const elapsed = now - this.healthySince;
    if (elapsed >= this.slowStartMs) return this.weight;
    return this.weight * Math.max(SLOW_START_FLOOR, elapsed / this.slowStartMs);
  }

  markHealthy(now: number): void {
    if (!this.healthy) {
      this.healthy = true;
      this.healthySince = now;
    }
  }

  markUnhealthy(): void {
    this.healthy = false;
  }

  /** Health as the routing table states it. */
  setHealth(healthy: boolean, since: number): void {
    this.healthy = healthy;
    this.healthySince = since;
  }

  acquire(exchange: Cuttable): void {
    this.inFlight++;
    this.active.add(exchange);
  }

  release(exchange: Cuttable): void {
    if (!this.active.delete(exchange)) return;
    this.inFlight--;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves when nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

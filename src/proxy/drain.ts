// Drains an endpoint that has left the routing table: in-flight requests and WebSockets may finish until
// the deadline; then what is left is closed (HTTP: the connection; WebSocket: close 1001).
import type { Endpoint } from './endpoint.js';

export interface DrainReport {
  /** In flight when the drain began and finished by themselves. */
  finished: number;
  /** Closed at the deadline. */
  cut: number;
  durationMs: number;
}

export async function drainEndpoint(endpoint: Endpoint, timeoutMs: number): Promise<DrainReport> {
  const startedAt = performance.now();
  endpoint.draining = true;
  const inFlightAtStart = endpoint.inFlight;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), timeoutMs);
  });
  const outcome = await Promise.race([endpoint.whenIdle().then(() => 'idle' as const), deadline]);
  clearTimeout(timer);
  let cut = 0;
  if (outcome === 'deadline') {
    const left = [...endpoint.active];
    cut = left.length;
    for (const exchange of left) exchange.cut();
  }
  return {
    finished: Math.max(0, inFlightAtStart - cut),
    cut,
    durationMs: Math.round(performance.now() - startedAt),
  };
}

// The admin API's routes, over what the daemon offers (the API knows the daemon only by this interface).
import type { Registry } from 'prom-client';
import type { RoutingTable } from '../proxy/routing-table.js';
import { notFound } from './api-error.js';
import { Router } from './router.js';

export interface AdminActions {
  readonly table: RoutingTable;
  reload(): { ok: boolean; problems?: string; needsRestart?: string[] };
}

export function adminRoutes(actions: AdminActions, metrics: Registry): Router {
  const router = new Router();
  router.add('GET', '/healthz', () => ({ status: 200, body: { ok: true } }));
  router.add('GET', '/metrics', async ({ res }) => {
    const text = await metrics.metrics();
    res.writeHead(200, { 'content-type': metrics.contentType });
    res.end(text);
    return undefined;
  });
  router.add('POST', '/api/v1/reload', () => {
    const result = actions.reload();
    return result.ok
      ? { status: 200, body: result }
      : { status: 422, body: { error: { code: 'invalid_config', message: result.problems ?? 'invalid config' } } };
  });
  router.add('GET', '/api/v1/services', () => ({
    status: 200,
    body: { services: [...actions.table.services.values()].map((s) => serviceView(actions.table, s.name)) },
  }));
  router.add('GET', '/api/v1/services/:name', ({ params }) => {
    const view = serviceView(actions.table, params.name!);
    if (view === undefined) throw notFound(`service ${params.name}`);
    return { status: 200, body: view };
  });
  return router;
}

function serviceView(table: RoutingTable, name: string) {
  const service = table.services.get(name);
  if (service === undefined) return undefined;
  const now = Date.now();
  return {
    name,
    releases: service.releases.map((release) => ({
      name: release.name,
      weight: release.weight,
      instances: release.endpoints.map((e) => ({
        id: e.id,
        address: e.address,
        healthy: e.healthy,
        ejected: e.ejectedUntil > now,
        inFlight: e.inFlight,
      })),
    })),
  };
}

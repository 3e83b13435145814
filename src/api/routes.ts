// The admin API's routes (DESIGN.md, "Admin API"): JSON in and out, errors as {error: {code, message,
// field?}}. The API only calls the controller and the store; it holds no state of its own.
import type { Registry } from 'prom-client';
import type { CertificateView } from '../certificates/certificate-manager.js';
import { NAME_PATTERN } from '../config/schema.js';
import type { Controller } from '../deploy/controller.js';
import { DeployError } from '../deploy/errors.js';
import { readInstanceLogs } from '../runtime/instance-logs.js';
import { ApiError, badRequest, notFound } from './api-error.js';
import type { DaemonView, UpgradeView } from './daemon-view.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { streamEvents } from './event-stream.js';
import { Router, type RouteHandler } from './router.js';
import { acknowledgeLastDeployment, deploymentView, serviceView } from './views.js';
import type { ReloadView, RoutingView } from './wire.js';

export interface AdminActions {
  readonly controller: Controller;
  readonly stateDir: string;
  reload(): ReloadView;
  daemon(): DaemonView;
  upgrade(): Promise<{ ok: boolean; message: string; status: UpgradeView }>;
  readonly certificates?: { views(): CertificateView[] };
  /** The routing table the data plane routes by now (src/proxy/describe-table.ts). */
  routing(): Promise<RoutingView>;
}


export function adminRoutes(actions: AdminActions, metrics: Registry): Router {
  const { controller } = actions;
  const { store } = controller;
  const router = new Router();
  /** Wraps a handler so controller errors become API errors with their status and field. */
  const api = (handler: RouteHandler): RouteHandler => async (ctx) => {
    const name = ctx.params.name;
    if (name !== undefined && !NAME_PATTERN.test(name)) throw notFound(`service ${JSON.stringify(name)}`);
    try {
      const answer = await handler(ctx);
      // A command is answered once what it wrote is durable (in a cluster: committed by etcd).
      if (ctx.req.method !== 'GET') await store.flush();
      return answer;
    } catch (err) {
      if (err instanceof DeployError) throw new ApiError(err.status, err.code, err.message, err.field);
      throw err;
    }
  };
  const bodyObject = (body: unknown): Record<string, unknown> => {
    if (body === undefined) return {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object', 'body');
    return body as Record<string, unknown>;
  };

  router.add('GET', '/healthz', () => ({ status: 200, body: { ok: true } }));
  router.add('GET', '/metrics', async ({ res }) => {
    const text = await metrics.metrics();
    res.writeHead(200, { 'content-type': metrics.contentType });
    res.end(text);
    return undefined;
  });
  router.add('POST', '/api/v1/reload', () => {
    const result = actions.reload();
    return result.ok ? { status: 200, body: result } : { status: 422, body: { error: { code: 'invalid_config', message: result.problems } } };
  });
  router.add('GET', '/api/v1/daemon', () => ({ status: 200, body: actions.daemon() }));
  router.add('POST', '/api/v1/daemon/upgrade', async () => {
    const answer = await actions.upgrade();
    if (!answer.ok) throw new ApiError(409, 'upgrade_in_progress', answer.message);
    return { status: 202, body: { message: answer.message, upgrade: answer.status } };
  });
  router.add('GET', '/api/v1/certificates', () => ({ status: 200, body: { certificates: actions.certificates?.views() ?? [] } }));
  router.add('GET', '/api/v1/routing', async () => ({ status: 200, body: await actions.routing() }));
  router.add('GET', '/api/v1/services', () => ({ status: 200, body: { services: controller.serviceNames().map((n) => serviceView(controller, n)) } }));
  router.add('GET', '/api/v1/services/:name', api(({ params }) => ({ status: 200, body: serviceView(controller, params.name!) })));
  router.add(
    'POST',
    '/api/v1/services/:name/deployments',
    api(async ({ params, body }) => {
      const row = await controller.deploy(params.name!, body);
      return { status: 202, body: deploymentView(store, row) };
    }),
  );
  router.add(
    'GET',
    '/api/v1/services/:name/deployments',
    api(({ params, query }) => {
      controller.serviceConfig(params.name!);
      const limit = Math.min(Math.max(Number(query.get('limit') ?? 20) || 20, 1), 500);
      return { status: 200, body: { deployments: store.deployments(params.name!, limit).map((d) => deploymentView(store, d)) } };
    }),
  );
  router.add(
    'GET',
    '/api/v1/deployments/:id',
    api(({ params }) => {
      const id = Number(params.id);
      const row = Number.isInteger(id) ? store.deployment(id) : undefined;
      if (!row) throw notFound(`deployment ${params.id}`);
      const run = controller.activeRun(row.service);
      return {
        status: 200,
        body: { ...deploymentView(store, row, run?.id === row.id ? run.step : undefined), events: store.events({ deploymentId: row.id, limit: 1000 }) },
      };
    }),
  );
  const action = (verb: string, run: (name: string, body: Record<string, unknown>) => unknown) =>
    router.add(
      'POST',
      `/api/v1/services/:name/${verb}`,
      api(async ({ params, body }) => {
        const result = await run(params.name!, bodyObject(body));
        return { status: 200, body: result };
      }),
    );
  action('promote', (name, body) => deploymentView(store, controller.promote(name, body.full === true)));
  action('pause', (name) => deploymentView(store, controller.pause(name)));
  action('resume', (name) => deploymentView(store, controller.resume(name)));
  action('abort', (name) => deploymentView(store, controller.abort(name)));
  action('rollback', (name, body) => {
    if (body.to !== undefined && typeof body.to !== 'string') throw badRequest('to must be a version label', 'to');
    if (body.force !== undefined && typeof body.force !== 'boolean') throw badRequest('force must be true or false', 'force');
    return controller.rollbackInForce(name, body.to, body.force === true).then((row) => deploymentView(store, row));
  });
  action('scale', async (name, body) => controller.scale(name, body.instances));
  action('acknowledge', (name) => {
    controller.serviceConfig(name);
    return acknowledgeLastDeployment(store, name);
  });
  router.add('GET', '/api/v1/events', ({ req, res, query }) => {
    streamEvents(store, req, res, query);
    return undefined;
  });
  router.add(
    'GET',
    '/api/v1/services/:name/logs',
    api(async ({ params, query }) => {
      controller.serviceConfig(params.name!);
      const wanted = query.get('instance');
      const rows = store.instances({ service: params.name! }).filter((r) => wanted === null || r.id === wanted);
      if (wanted !== null && rows.length === 0) throw notFound(`instance ${wanted}`);
      const bytes = Math.min(Math.max(Number(query.get('bytes') ?? 16384) || 16384, 1), 1024 * 1024);
      const refs = rows.map((row) => ({ id: row.id, service: row.service, state: row.state, releaseNumber: store.release(row.releaseId)!.number, ordinal: row.ordinal }));
      return { status: 200, body: { logs: await readInstanceLogs(actions.stateDir, refs, bytes) } };
    }),
  );
  registerDashboardRoutes(router, actions);
  return router;
}

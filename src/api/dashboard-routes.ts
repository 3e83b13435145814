// What the dashboard adds to the admin API: the page itself (`GET /`, `/assets/*`, served without a
// token because they hold no data) and the per-second series its charts draw
// (`GET /api/v1/services/:name/timeseries`).
import { NAME_PATTERN } from '../config/schema.js';
import type { Controller } from '../deploy/controller.js';
import { DeployError } from '../deploy/errors.js';
import { releaseNames } from '../deploy/routing.js';
import { errorStatusMatcher } from '../metrics/rolling-window.js';
import type { RequestMetrics } from '../metrics/request-metrics.js';
import { ApiError, badRequest, notFound } from './api-error.js';
import { DashboardAssets } from './dashboard-assets.js';
import type { Router } from './router.js';
import { requestRate, timeseriesView, type ReleaseLabel } from './timeseries-view.js';

/** What the dashboard routes read: the controller and the proxy's request metrics. */
export interface DashboardSources {
  readonly controller: Controller;
  readonly metrics: RequestMetrics;
}

// The daemon, which is the admin routes' AdminActions, already holds both; say so to the type checker,
// so routes.ts wires the dashboard with one line.
declare module './routes.js' {
  interface AdminActions {
    readonly metrics: RequestMetrics;
  }
}


/**
 * Adds the dashboard's page and API routes to the admin router.
 *
 * @example
 * registerDashboardRoutes(router, daemon); // then GET / serves the page
 */
export function registerDashboardRoutes(router: Router, sources: DashboardSources, assets = new DashboardAssets()): void {
  router.add('GET', '/', ({ req, res }) => {
    assets.send(req, res, 'index.html');
    return undefined;
  });
  router.add('GET', '/assets/:file', ({ req, res, params }) => {
    assets.send(req, res, `assets/${params.file!}`);
    return undefined;
  });
  router.add('GET', '/api/v1/services/:name/timeseries', ({ params, query }) => {
    const service = params.name!;
    serviceOrThrow(sources.controller, service);
    const seconds = numberParam(query, 'seconds') ?? 300;
    const after = numberParam(query, 'after');
    return { status: 200, body: timeseries(sources, service, seconds, after) };
  });
}

/** The chart series plus each live instance's recent request rate. */
function timeseries({ controller, metrics }: DashboardSources, service: string, seconds: number, after: number | undefined) {
  const to = Math.floor(Date.now() / 1000) - 1;
  const isError = errorStatusMatcher(controller.serviceConfig(service).deploy.analysis.errorStatuses);
  const view = timeseriesView(service, metrics.series.get(service), { to, seconds, after }, isError, labeller(controller, service));
  const instances = controller.supervisorInstances(service).map((i) => ({ id: i.id, requestsPerSecond: requestRate(metrics.instances.get(i.id), to) }));
  return { ...view, instances };
}

/** Maps a metrics release name (the version, or `version#number`) to its release and its role now. */
function labeller(controller: Controller, service: string): (name: string) => ReleaseLabel {
  const { store } = controller;
  const stable = store.stableRelease(service);
  const target = controller.activeRun(service)?.target;
  const live = new Map<string, number>();
  for (const [id, name] of releaseNames(controller.routing(service))) live.set(name, id);
  return (name) => {
    const hash = name.lastIndexOf('#');
    const version = hash === -1 ? name : name.slice(0, hash);
    const id = live.get(name);
    const release =
      id !== undefined
        ? store.release(id)
        : hash === -1
          ? store.latestReleaseByVersion(service, version)
          : store.releases(service).find((r) => r.number === Number(name.slice(hash + 1)));
    if (release === undefined) return { number: null, version, role: 'other' };
    const role = release.id === stable?.id ? 'stable' : release.id === target?.id ? 'target' : 'other';
    return { number: release.number, version: release.version, role };
  };
}

function serviceOrThrow(controller: Controller, service: string): void {
  if (!NAME_PATTERN.test(service)) throw notFound(`service ${JSON.stringify(service)}`);
  try {
    controller.serviceConfig(service);
  } catch (err) {
    if (err instanceof DeployError) throw new ApiError(err.status, err.code, err.message, err.field);
    throw err;
  }
}

function numberParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw badRequest(`${name} must be a whole number of seconds`, name);
  return value;
}

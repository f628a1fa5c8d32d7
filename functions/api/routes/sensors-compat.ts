import { z } from 'zod';
import type { Principal } from '../../service/auth/principal.ts';
import { createSiteSchema, locationSchema, timeZoneSchema } from '../../service/domain/sensors.ts';
import { errorStatus, ServiceError } from '../../service/errors.ts';
import { authorizeProject, listProjects } from '../../service/projects/projects-service.ts';
import { createSite, deleteSite, requireSite, updateSite } from '../../service/sensors/catalogue-service.ts';
import { assetMaintenance, metricForecast } from '../../service/sensors/series-views.ts';
import type { Services } from '../../service/services.ts';
import { defineRoute, type RouteResult } from '../http/route.ts';

/**
 * The older dashboard's routes: every answer in its envelope, `{"success": true, "data": ...}`, and every error as
 * `{"success": false, "error": {"code", "message"}}` with the same status the API gives. Sites are found by id alone
 * (the site's project is looked up, then the caller is checked against it, as on every project route).
 */
const tags = ['Compatibility'];
const envelope = z.object({ success: z.literal(true), data: z.unknown() });

async function answer(work: () => Promise<unknown>, status = 200): Promise<RouteResult> {
  try {
    return { status, body: { success: true, data: await work() } };
  } catch (error) {
    const code = errorStatus(error);
    if (code >= 500) throw error;
    const { code: name, message } = error as { code?: string; message: string };
    return { status: code, body: { success: false, error: { code: name ?? 'BAD_REQUEST', message } } };
  }
}

/** The sensors projects the caller may see. */
async function sensorsProjects(s: Services, by: Principal): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listProjects(s, by, 100, cursor);
    ids.push(...page.items.filter((p) => p.kind === 'sensors').map((p) => p.id));
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return ids;
}

/** A site by id, if the caller may use its project; else 404, as if it did not exist. */
async function siteFor(s: Services, by: Principal, siteId: string) {
  const projectId = await s.sensors.projectOfSite(siteId);
  const missing = new ServiceError('NOT_FOUND', `no site ${siteId}`, { siteId });
  if (!projectId) throw missing;
  await authorizeProject(s, projectId, by).catch(() => Promise.reject(missing));
  return requireSite(s, projectId, siteId);
}

const siteId = z.object({ id: z.uuid() });
const siteQuery = z.object({ siteId: z.uuid() });
const compatSite = z
  .object({
    name: createSiteSchema.shape.name,
    location: locationSchema.optional(),
    timezone: timeZoneSchema.optional(),
    projectId: z.uuid().optional().meta({ description: 'Needed when the caller sees several sensors projects' }),
  })
  .strict();

const siteView = (site: { id: string; name: string; location: unknown; timeZone: string; projectId: string }) => ({
  id: site.id,
  name: site.name,
  location: site.location,
  timezone: site.timeZone,
  projectId: site.projectId,
});

const days = (iso: string) => Math.max(0, Math.round(((Date.parse(iso) - Date.now()) / 86_400_000) * 10) / 10);
const priorityOf = (probability: number, inDays: number) =>
  probability >= 0.8 && inDays <= 7 ? 'critical' : probability >= 0.6 ? 'high' : probability >= 0.3 ? 'medium' : 'low';

export const sensorCompatibilityRoutes = [
  defineRoute({
    method: 'GET',
    path: '/api/v1/sites',
    operationId: 'compatListSites',
    summary: 'Every site of the sensors projects the caller sees (older dashboard)',
    tags,
    success: { status: 200, description: '{"success": true, "data": [sites]}', schema: envelope },
    handle: async ({ principal }, s) =>
      answer(async () => {
        const sites = [];
        for (const p of await sensorsProjects(s, principal)) sites.push(...(await s.sensors.listSites(p)));
        return sites.map(siteView);
      }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/sites',
    operationId: 'compatCreateSite',
    summary: "Create a site in the caller's sensors project (older dashboard)",
    tags,
    body: { json: compatSite },
    success: { status: 201, description: '{"success": true, "data": site}', schema: envelope },
    errors: [404, 409],
    handle: async ({ body, principal }, s) =>
      answer(async () => {
        let projectId = body.projectId;
        if (projectId) await authorizeProject(s, projectId, principal);
        else {
          const mine = await sensorsProjects(s, principal);
          if (mine.length !== 1)
            throw new ServiceError(
              'VALIDATION_FAILED',
              `the caller sees ${mine.length} sensors projects: name one in "projectId"`,
            );
          projectId = mine[0];
        }
        return siteView(
          await createSite(s, projectId, {
            name: body.name,
            location: body.location ?? {},
            timeZone: body.timezone ?? 'UTC',
          }),
        );
      }, 201),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/sites/{id}',
    operationId: 'compatGetSite',
    summary: 'Get a site (older dashboard)',
    tags,
    params: siteId,
    success: { status: 200, description: '{"success": true, "data": site}', schema: envelope },
    errors: [404],
    handle: async ({ params, principal }, s) => answer(async () => siteView(await siteFor(s, principal, params.id))),
  }),
  defineRoute({
    method: 'PUT',
    path: '/api/v1/sites/{id}',
    operationId: 'compatUpdateSite',
    summary: 'Change a site (older dashboard)',
    tags,
    params: siteId,
    body: { json: compatSite.omit({ projectId: true }).partial() },
    success: { status: 200, description: '{"success": true, "data": site}', schema: envelope },
    errors: [404],
    handle: async ({ params, body, principal }, s) =>
      answer(async () => {
        const site = await siteFor(s, principal, params.id);
        return siteView(
          await updateSite(s, site.projectId, site.id, {
            name: body.name,
            location: body.location,
            timeZone: body.timezone,
          }),
        );
      }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/v1/sites/{id}',
    operationId: 'compatDeleteSite',
    summary: 'Delete a site with its assets and metrics (older dashboard)',
    tags,
    params: siteId,
    success: { status: 200, description: '{"success": true, "data": counts}', schema: envelope },
    errors: [404],
    handle: async ({ params, principal }, s) =>
      answer(async () => {
        const site = await siteFor(s, principal, params.id);
        return deleteSite(s, site.projectId, site.id);
      }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/sites/{id}/metrics',
    operationId: 'compatSiteMetrics',
    summary: "A site's metrics (older dashboard)",
    tags,
    params: siteId,
    success: { status: 200, description: '{"success": true, "data": [metrics]}', schema: envelope },
    errors: [404],
    handle: async ({ params, principal }, s) =>
      answer(async () => {
        const site = await siteFor(s, principal, params.id);
        return s.sensors.listMetrics(site.projectId, { siteId: site.id });
      }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/anomalies',
    operationId: 'compatAnomalies',
    summary: "A site's anomalies, newest first (older dashboard)",
    tags,
    query: siteQuery.extend({ limit: z.coerce.number().int().min(1).max(100).default(50) }),
    success: {
      status: 200,
      description: 'items: id, type, severity, timestamp, value, expectedValue, deviation, confidence',
      schema: envelope,
    },
    errors: [404],
    handle: async ({ query, principal }, s) =>
      answer(async () => {
        const site = await siteFor(s, principal, query.siteId);
        const page = await s.sensors.listAnomalies(site.projectId, { siteId: site.id }, query.limit);
        return page.items.map((a) => ({
          id: a.id,
          type: a.type,
          severity: a.severity,
          timestamp: a.peak,
          value: a.value,
          expectedValue: a.expected,
          deviation: a.deviationPercent,
          confidence: a.confidence,
          metricId: a.metricId,
          status: a.status,
        }));
      }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/forecast',
    operationId: 'compatForecast',
    summary: "Forecast of the site's power metric, or `metric` (older dashboard)",
    description: 'The power metric: the first with a unit of W, kW or MW, else the first named "power".',
    tags,
    query: siteQuery.extend({
      horizon: z
        .string()
        .regex(/^\d{1,5}(s|m|h|d|w)?$/)
        .default('24h'),
      metric: z.uuid().optional(),
    }),
    success: {
      status: 200,
      description: 'items: timestamp, predictedPower, confidence, lower95, upper95',
      schema: envelope,
    },
    errors: [404, 409],
    handle: async ({ query, principal }, s) =>
      answer(async () => {
        const site = await siteFor(s, principal, query.siteId);
        const metrics = await s.sensors.listMetrics(site.projectId, { siteId: site.id });
        const metric = query.metric
          ? metrics.find((m) => m.id === query.metric)
          : (metrics.find((m) => /^(k|M)?W$/.test(m.unit)) ?? metrics.find((m) => /power/i.test(m.name)));
        if (!metric)
          throw new ServiceError(
            'NOT_FOUND',
            query.metric
              ? `no metric ${query.metric} at this site`
              : 'this site has no power metric: name one in "metric"',
          );
        const f = await metricForecast(s, site.projectId, metric.id, query.horizon);
        return f.points.map((p) => ({
          timestamp: p.time,
          predictedPower: p.value,
          // How tight the 95 % interval is against the value's size: 1 = exact, 0 = as wide as the value.
          confidence:
            Math.round(
              Math.max(0, Math.min(1, 1 - (p.upper95 - p.lower95) / (2 * Math.max(Math.abs(p.value), 1e-9)))) * 1000,
            ) / 1000,
          lower95: p.lower95,
          upper95: p.upper95,
        }));
      }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/maintenance',
    operationId: 'compatMaintenance',
    summary: 'Predicted maintenance of the assets of a site, or of one asset (older dashboard)',
    tags,
    query: siteQuery.extend({
      assetId: z.uuid().optional(),
      horizon: z
        .string()
        .regex(/^\d{1,5}(s|m|h|d|w)?$/)
        .default('7d'),
    }),
    success: {
      status: 200,
      description:
        'items: assetId, assetName, type, priority, predictedFailureDate, daysUntilMaintenance, confidence, recommendation',
      schema: envelope,
    },
    errors: [404],
    handle: async ({ query, principal }, s) =>
      answer(async () => {
        const site = await siteFor(s, principal, query.siteId);
        const assets = (await s.sensors.listAssets(site.projectId, site.id)).filter(
          (a) => !query.assetId || a.id === query.assetId,
        );
        if (query.assetId && assets.length === 0)
          throw new ServiceError('NOT_FOUND', `no asset ${query.assetId} at this site`);
        const items = [];
        for (const asset of assets) {
          const m = await assetMaintenance(s, site.projectId, asset.id, query.horizon);
          for (const i of m.items) {
            const date = i.bound95_crossing ?? i.forecast_crossing;
            if (!date) continue;
            const inDays = days(date);
            items.push({
              assetId: asset.id,
              assetName: asset.name,
              type: `${i.metricName} ${i.direction === 'rising' ? 'above' : 'below'} ${i.limit}${i.unit ? ` ${i.unit}` : ''}`,
              priority: priorityOf(i.probability, inDays),
              predictedFailureDate: date,
              daysUntilMaintenance: inDays,
              confidence: i.probability,
              recommendation: `Inspect ${asset.name} before ${date.slice(0, 10)}: ${i.metricName} is forecast to reach ${i.limit}${i.unit ? ` ${i.unit}` : ''} (${i.confidence} confidence).`,
            });
          }
        }
        return items.sort((a, b) => a.predictedFailureDate.localeCompare(b.predictedFailureDate));
      }),
  }),
];

import { z } from 'zod';
import {
  assetMaintenanceSchema,
  assetSchema,
  createAssetSchema,
  createMetricSchema,
  createSiteSchema,
  metricAnomalySchema,
  metricForecastSchema,
  metricPointSchema,
  metricSchema,
  pointInputSchema,
  SEVERITIES,
  siteSchema,
  storedPointSchema,
  updateAssetSchema,
  updateMetricSchema,
  updateSiteSchema,
} from '../../service/domain/sensors.ts';
import {
  createAsset,
  createMetric,
  createSite,
  deleteAsset,
  deleteMetric,
  deleteSite,
  requireAsset,
  requireMetric,
  requireSensorsProject,
  requireSite,
  updateAsset,
  updateMetric,
  updateSite,
} from '../../service/sensors/catalogue-service.ts';
import { acceptManyPoints, acceptPoints, parsePointsCsv, timeOf } from '../../service/sensors/points-intake.ts';
import {
  acknowledgeMetricAnomaly,
  assetMaintenance,
  listMetricAnomalies,
  MAX_CHART_POINTS,
  metricForecast,
  metricPoints,
} from '../../service/sensors/series-views.ts';
import { defineRoute } from '../http/route.ts';
import { page, pageQuery, projectParams } from './common.ts';

/** Sites, assets and metrics of a sensors project, their points in, and what the stream made of them. */
const tags = ['Sensors'];
const base = '/api/v1/projects/{projectId}';

const siteParams = projectParams.extend({ siteId: z.uuid() });
const assetParams = projectParams.extend({ assetId: z.uuid() });
const metricParams = projectParams.extend({ metricId: z.uuid() });
const anomalyParams = projectParams.extend({
  anomalyId: z
    .string()
    .regex(/^\d{15}_[0-9a-f-]{36}_[a-z-]{1,20}$/)
    .meta({ description: 'Anomaly id' }),
});
const horizonQuery = z.object({
  horizon: z
    .string()
    .regex(/^\d{1,5}(\.\d+)?(s|m|h|d|w)?$/, 'a duration like 24h, 7d or 90m')
    .default('24h'),
});
const instant = z
  .string()
  .max(40)
  .refine((t) => Number.isFinite(timeOf(/^\d+$/.test(t) ? Number(t) : t)), 'an ISO 8601 time or epoch milliseconds')
  .transform((t) => timeOf(/^\d+$/.test(t) ? Number(t) : t));
const accepted = z.object({ accepted: z.number().int(), metrics: z.number().int() }).meta({ id: 'PointsAccepted' });
const deleted = z.object({}).catchall(z.union([z.number(), z.boolean()]));
const MAX_POINTS_PER_CALL = 200_000;

export const sensorRoutes = [
  defineRoute({
    method: 'POST',
    path: `${base}/sites`,
    operationId: 'createSite',
    summary: 'Create a site (a place with a time zone) in a sensors project',
    tags,
    params: projectParams,
    body: { json: createSiteSchema },
    success: { status: 201, description: 'Created', schema: siteSchema },
    errors: [404, 409],
    handle: async ({ params, body }, s) => ({ status: 201, body: await createSite(s, params.projectId, body) }),
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/sites`,
    operationId: 'listSites',
    summary: "List a sensors project's sites",
    tags,
    params: projectParams,
    success: { status: 200, description: 'The sites', schema: z.object({ items: z.array(siteSchema) }) },
    errors: [404, 409],
    handle: async ({ params }, s) => {
      await requireSensorsProject(s, params.projectId);
      return { status: 200, body: { items: await s.sensors.listSites(params.projectId) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/sites/{siteId}`,
    operationId: 'getSite',
    summary: 'Get a site',
    tags,
    params: siteParams,
    success: { status: 200, description: 'The site', schema: siteSchema },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: await requireSite(s, params.projectId, params.siteId) }),
  }),
  defineRoute({
    method: 'PATCH',
    path: `${base}/sites/{siteId}`,
    operationId: 'updateSite',
    summary: "Change a site's name, location or time zone",
    tags,
    params: siteParams,
    body: { json: updateSiteSchema },
    success: { status: 200, description: 'The site after the change', schema: siteSchema },
    errors: [404],
    handle: async ({ params, body }, s) => ({
      status: 200,
      body: await updateSite(s, params.projectId, params.siteId, body),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: `${base}/sites/{siteId}`,
    operationId: 'deleteSite',
    summary: 'Delete a site with its assets and their metrics (points and detector state included)',
    tags,
    params: siteParams,
    success: { status: 200, description: 'Deleted', schema: deleted },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: await deleteSite(s, params.projectId, params.siteId) }),
  }),
  defineRoute({
    method: 'POST',
    path: `${base}/assets`,
    operationId: 'createAsset',
    summary: 'Create an asset (a machine at a site: name, kind, tags)',
    tags,
    params: projectParams,
    body: { json: createAssetSchema },
    success: { status: 201, description: 'Created', schema: assetSchema },
    errors: [404, 409],
    handle: async ({ params, body }, s) => ({ status: 201, body: await createAsset(s, params.projectId, body) }),
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/assets`,
    operationId: 'listAssets',
    summary: "List a sensors project's assets, or one site's",
    tags,
    params: projectParams,
    query: z.object({ siteId: z.uuid().optional() }),
    success: { status: 200, description: 'The assets', schema: z.object({ items: z.array(assetSchema) }) },
    errors: [404, 409],
    handle: async ({ params, query }, s) => {
      await requireSensorsProject(s, params.projectId);
      return { status: 200, body: { items: await s.sensors.listAssets(params.projectId, query.siteId) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/assets/{assetId}`,
    operationId: 'getAsset',
    summary: 'Get an asset',
    tags,
    params: assetParams,
    success: { status: 200, description: 'The asset', schema: assetSchema },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: await requireAsset(s, params.projectId, params.assetId) }),
  }),
  defineRoute({
    method: 'PATCH',
    path: `${base}/assets/{assetId}`,
    operationId: 'updateAsset',
    summary: "Change an asset's name, kind or tags",
    tags,
    params: assetParams,
    body: { json: updateAssetSchema },
    success: { status: 200, description: 'The asset after the change', schema: assetSchema },
    errors: [404],
    handle: async ({ params, body }, s) => ({
      status: 200,
      body: await updateAsset(s, params.projectId, params.assetId, body),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: `${base}/assets/{assetId}`,
    operationId: 'deleteAsset',
    summary: 'Delete an asset with its metrics',
    tags,
    params: assetParams,
    success: { status: 200, description: 'Deleted', schema: deleted },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: await deleteAsset(s, params.projectId, params.assetId) }),
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/assets/{assetId}/maintenance`,
    operationId: 'assetMaintenance',
    summary: "Which of the asset's metrics is expected to cross its limit within the horizon, when, how sure",
    tags,
    params: assetParams,
    query: horizonQuery.extend({ horizon: horizonQuery.shape.horizon.default('7d') }),
    success: {
      status: 200,
      description: 'Soonest crossing first; metrics that cannot be forecast yet are listed with the reason',
      schema: assetMaintenanceSchema,
    },
    errors: [404],
    handle: async ({ params, query }, s) => ({
      status: 200,
      body: await assetMaintenance(s, params.projectId, params.assetId, query.horizon),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: `${base}/metrics`,
    operationId: 'createMetric',
    summary: 'Create a metric of an asset (name, unit, optional limits, expected interval)',
    tags,
    params: projectParams,
    body: { json: createMetricSchema },
    success: { status: 201, description: 'Created', schema: metricSchema },
    errors: [404, 409],
    handle: async ({ params, body }, s) => ({ status: 201, body: await createMetric(s, params.projectId, body) }),
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/metrics`,
    operationId: 'listMetrics',
    summary: "List a sensors project's metrics, or a site's or an asset's",
    tags,
    params: projectParams,
    query: z.object({ siteId: z.uuid().optional(), assetId: z.uuid().optional() }),
    success: { status: 200, description: 'The metrics', schema: z.object({ items: z.array(metricSchema) }) },
    errors: [404, 409],
    handle: async ({ params, query }, s) => {
      await requireSensorsProject(s, params.projectId);
      return { status: 200, body: { items: await s.sensors.listMetrics(params.projectId, query) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/metrics/{metricId}`,
    operationId: 'getMetric',
    summary: 'Get a metric',
    tags,
    params: metricParams,
    success: { status: 200, description: 'The metric', schema: metricSchema },
    errors: [404],
    handle: async ({ params }, s) => ({
      status: 200,
      body: await requireMetric(s, params.projectId, params.metricId),
    }),
  }),
  defineRoute({
    method: 'PATCH',
    path: `${base}/metrics/{metricId}`,
    operationId: 'updateMetric',
    summary: "Change a metric's name, unit, limits or expected interval",
    tags,
    params: metricParams,
    body: { json: updateMetricSchema },
    success: { status: 200, description: 'The metric after the change', schema: metricSchema },
    errors: [404],
    handle: async ({ params, body }, s) => ({
      status: 200,
      body: await updateMetric(s, params.projectId, params.metricId, body),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: `${base}/metrics/{metricId}`,
    operationId: 'deleteMetric',
    summary: 'Delete a metric with its points and detector state',
    tags,
    params: metricParams,
    success: { status: 200, description: 'Deleted', schema: deleted },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: await deleteMetric(s, params.projectId, params.metricId) }),
  }),
  defineRoute({
    method: 'POST',
    path: `${base}/metrics/{metricId}/points`,
    operationId: 'sendMetricPoints',
    summary: 'Send points of one metric (JSON array, or text/csv "timestamp,value" lines)',
    description:
      'All or none: a bad line (named), a value that is not a finite number, a time over an hour ahead or older than ' +
      'FAULTLINE_POINT_MAX_AGE_DAYS, or a time given twice refuses the whole body. Accepted points go onto the stream ' +
      'and are scored in time order; a point not after the last one scored for the metric is counted as dropped.',
    tags,
    params: metricParams,
    body: {
      json: z.array(pointInputSchema).min(1).max(MAX_POINTS_PER_CALL),
      csv: (text: string) => parsePointsCsv(text).map((p) => ({ timestamp: p.time, value: p.value })),
    },
    success: { status: 202, description: 'On the stream', schema: accepted },
    errors: [404, 409, 413, 503],
    handle: async ({ params, body }, s) => ({
      status: 202,
      body: await acceptPoints(
        s,
        params.projectId,
        params.metricId,
        body.map((p) => ({ time: timeOf(p.timestamp), value: p.value })),
      ),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: `${base}/points`,
    operationId: 'sendPoints',
    summary: 'Send points of many metrics of the project in one call',
    tags,
    params: projectParams,
    body: { json: z.array(metricPointSchema).min(1).max(MAX_POINTS_PER_CALL) },
    success: { status: 202, description: 'On the stream', schema: accepted },
    errors: [404, 409, 413, 503],
    handle: async ({ params, body }, s) => ({
      status: 202,
      body: await acceptManyPoints(s, params.projectId, body),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/metrics/{metricId}/points`,
    operationId: 'getMetricPoints',
    summary: 'Scored points of a metric in a time range, downsampled to at most maxPoints time buckets',
    tags,
    params: metricParams,
    query: z.object({
      from: instant,
      to: instant,
      maxPoints: z.coerce.number().int().min(10).max(MAX_CHART_POINTS).default(1000),
    }),
    success: {
      status: 200,
      description: 'Points in time order',
      schema: z.object({ downsampled: z.boolean(), points: z.array(storedPointSchema) }),
    },
    errors: [404],
    handle: async ({ params, query }, s) => ({
      status: 200,
      body: await metricPoints(s, params.projectId, params.metricId, query.from, query.to, query.maxPoints),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/metrics/{metricId}/forecast`,
    operationId: 'getMetricForecast',
    summary: 'Forecast of a metric with 80 % and 95 % intervals, and when its limits will be crossed',
    tags,
    params: metricParams,
    query: horizonQuery,
    success: { status: 200, description: 'The forecast', schema: metricForecastSchema },
    errors: [404, 409],
    handle: async ({ params, query }, s) => ({
      status: 200,
      body: await metricForecast(s, params.projectId, params.metricId, query.horizon),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/anomalies`,
    operationId: 'listMetricAnomalies',
    summary: "A sensors project's anomalies, newest first, filtered",
    tags,
    params: projectParams,
    query: pageQuery.extend({
      siteId: z.uuid().optional(),
      assetId: z.uuid().optional(),
      metricId: z.uuid().optional(),
      severity: z
        .string()
        .optional()
        .transform((v) => (v ? v.split(',') : undefined))
        .pipe(z.array(z.enum(SEVERITIES)).optional())
        .meta({ description: 'One or more of low, medium, high, critical, comma-separated' }),
      status: z.enum(['open', 'acknowledged']).optional(),
      from: instant.optional(),
      to: instant.optional(),
    }),
    success: {
      status: 200,
      description: 'A page of anomalies',
      schema: page(metricAnomalySchema, 'MetricAnomalyPage'),
    },
    errors: [404, 409],
    handle: async ({ params, query }, s) => {
      const { limit, cursor, severity, ...filter } = query;
      return {
        status: 200,
        body: await listMetricAnomalies(s, params.projectId, { ...filter, severities: severity }, limit, cursor),
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${base}/anomalies/{anomalyId}/acknowledge`,
    operationId: 'acknowledgeMetricAnomaly',
    summary: 'Acknowledge an open anomaly (who and when are recorded)',
    tags,
    params: anomalyParams,
    body: { json: z.object({ note: z.string().max(2000).optional() }).strict() },
    success: { status: 200, description: 'The anomaly, acknowledged', schema: metricAnomalySchema },
    errors: [404, 409],
    handle: async ({ params, body, principal }, s) => ({
      status: 200,
      body: await acknowledgeMetricAnomaly(s, params.projectId, params.anomalyId, principal.subject, body.note ?? null),
    }),
  }),
];

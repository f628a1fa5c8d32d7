import { z } from 'zod';
import { projectNameSchema } from './project.ts';

/**
 * Sites, assets and metrics of a `sensors` project, and what the stream makes of their points: stored points and
 * anomalies. A site is a place (with its time zone), an asset a machine at it, a metric one series an asset reports.
 */

const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, 'an IANA time zone, e.g. Europe/Berlin or UTC')
  .meta({ description: 'IANA time zone of the site, e.g. Europe/Berlin' });

export const locationSchema = z
  .object({
    latitude: z.number().min(-90).max(90).optional(),
    longitude: z.number().min(-180).max(180).optional(),
    address: z.string().trim().max(500).optional(),
  })
  .strict()
  .meta({ id: 'SiteLocation' });

const tagSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[^\p{Cc}]+$/u, 'no control characters');

export const createSiteSchema = z
  .object({ name: projectNameSchema, location: locationSchema.default({}), timeZone: timeZoneSchema.default('UTC') })
  .strict()
  .meta({ id: 'CreateSite' });
export const updateSiteSchema = z
  .object({
    name: projectNameSchema.optional(),
    location: locationSchema.optional(),
    timeZone: timeZoneSchema.optional(),
  })
  .strict()
  .meta({ id: 'UpdateSite' });
export const siteSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    name: z.string(),
    location: locationSchema,
    timeZone: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Site' });
export type Site = z.infer<typeof siteSchema>;

export const createAssetSchema = z
  .object({
    siteId: z.uuid(),
    name: projectNameSchema,
    kind: z.string().trim().min(1).max(64).default('generic'),
    tags: z.array(tagSchema).max(50).default([]),
  })
  .strict()
  .meta({ id: 'CreateAsset' });
export const updateAssetSchema = z
  .object({
    name: projectNameSchema.optional(),
    kind: z.string().trim().min(1).max(64).optional(),
    tags: z.array(tagSchema).max(50).optional(),
  })
  .strict()
  .meta({ id: 'UpdateAsset' });
export const assetSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    siteId: z.string(),
    name: z.string(),
    kind: z.string(),
    tags: z.array(z.string()),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Asset' });
export type Asset = z.infer<typeof assetSchema>;

export const limitsSchema = z
  .object({ lower: z.number().finite().optional(), upper: z.number().finite().optional() })
  .strict()
  .refine((l) => l.lower === undefined || l.upper === undefined || l.lower < l.upper, 'lower must be below upper')
  .meta({ id: 'MetricLimits', description: 'Values the metric must stay within (maintenance predicts the crossing)' });

export const createMetricSchema = z
  .object({
    assetId: z.uuid(),
    name: projectNameSchema,
    unit: z.string().trim().max(32).default(''),
    limits: limitsSchema.default({}),
    expectedIntervalSeconds: z.number().int().min(1).max(86_400).default(60),
  })
  .strict()
  .meta({ id: 'CreateMetric' });
export const updateMetricSchema = z
  .object({
    name: projectNameSchema.optional(),
    unit: z.string().trim().max(32).optional(),
    limits: limitsSchema.optional(),
    expectedIntervalSeconds: z.number().int().min(1).max(86_400).optional(),
  })
  .strict()
  .meta({ id: 'UpdateMetric' });
export const metricSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    siteId: z.string(),
    assetId: z.string(),
    name: z.string(),
    unit: z.string(),
    limits: z.object({ lower: z.number().optional(), upper: z.number().optional() }),
    expectedIntervalSeconds: z.number().int(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Metric' });
export type Metric = z.infer<typeof metricSchema>;

/** One measurement as clients send it: a time (ISO 8601 or epoch milliseconds) and a finite number. */
export const pointInputSchema = z
  .object({
    timestamp: z.union([z.iso.datetime({ offset: true }), z.number().int()]),
    value: z.number().finite(),
  })
  .strict();
export const metricPointSchema = pointInputSchema.extend({ metricId: z.uuid() }).strict();

export const storedPointSchema = z
  .object({
    timestamp: z.iso.datetime(),
    value: z.number(),
    score: z.number().nullable().meta({ description: 'Anomaly score 0..1 (null in a downsampled bucket)' }),
    min: z.number().optional(),
    max: z.number().optional(),
    count: z.number().int().optional(),
  })
  .meta({ id: 'MetricPoint' });

export const ANOMALY_TYPES = [
  'spike',
  'drop',
  'level shift',
  'trend change',
  'variance change',
  'missing data',
  'flatline',
] as const;
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type SeverityName = (typeof SEVERITIES)[number];

export const metricAnomalySchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    siteId: z.string(),
    assetId: z.string(),
    metricId: z.string(),
    type: z.enum(ANOMALY_TYPES),
    severity: z.enum(SEVERITIES),
    start: z.iso.datetime(),
    end: z.iso.datetime(),
    peak: z.iso.datetime(),
    score: z.number(),
    value: z.number(),
    expected: z.number(),
    deviationPercent: z.number().nullable(),
    confidence: z.number(),
    points: z.number().int(),
    detectedAt: z.iso.datetime(),
    status: z.enum(['open', 'acknowledged']),
    acknowledgedAt: z.iso.datetime().nullable(),
    acknowledgedBy: z.string().nullable(),
    note: z.string().nullable(),
  })
  .meta({ id: 'MetricAnomaly' });
export type MetricAnomaly = z.infer<typeof metricAnomalySchema>;

/** One step of a forecast: the point forecast with its 80 % and 95 % prediction intervals. */
export const forecastPointSchema = z
  .object({
    time: z.iso.datetime(),
    value: z.number(),
    lower80: z.number(),
    upper80: z.number(),
    lower95: z.number(),
    upper95: z.number(),
  })
  .meta({ id: 'ForecastPoint' });

/** When a forecast reaches one of the metric's limits (times are null when not within the horizon). */
export const limitCrossingSchema = z
  .object({
    limit: z.number(),
    direction: z.enum(['rising', 'falling']),
    forecast_crossing: z.iso.datetime().nullable().meta({ description: 'When the point forecast reaches the limit' }),
    bound95_crossing: z.iso
      .datetime()
      .nullable()
      .meta({ description: 'When the 95 % bound reaches it: the earliest plausible crossing' }),
    probability: z.number().meta({ description: 'Chance that the limit is reached within the horizon' }),
    confidence: z.enum(['low', 'medium', 'high']),
  })
  .meta({ id: 'LimitCrossing' });

export const metricForecastSchema = z
  .object({
    metricId: z.string(),
    model: z.string(),
    season: z.number().int().meta({ description: 'Points per season, 1 = none' }),
    intervalSeconds: z.number(),
    points: z.array(forecastPointSchema),
    limitCrossings: z.array(limitCrossingSchema),
  })
  .meta({ id: 'MetricForecast' });

export const assetMaintenanceSchema = z
  .object({
    assetId: z.string(),
    assetName: z.string(),
    horizon: z.string(),
    items: z.array(limitCrossingSchema.extend({ metricId: z.string(), metricName: z.string(), unit: z.string() })),
    skipped: z.array(z.object({ metricId: z.string(), reason: z.string() })),
  })
  .meta({ id: 'AssetMaintenance' });

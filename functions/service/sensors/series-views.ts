import { forecastSeries, horizonSteps } from '../../engine/series/forecast/forecast.ts';
import { type LimitCrossing, limitCrossing } from '../../engine/series/forecast/limit-crossing.ts';
import type { Metric, MetricAnomaly } from '../domain/sensors.ts';
import { ServiceError } from '../errors.ts';
import type { AnomalyFilter } from '../ports/sensor-store.ts';
import type { Services } from '../services.ts';
import { readPoints } from './point-archive.ts';
import { requireAsset, requireMetric, requireSensorsProject } from './catalogue-service.ts';

/** Charts, anomalies, forecasts and maintenance: what is read from the scored points. */

/** A range longer than this many points comes back in this many time buckets (mean, min, max, highest score). */
export const MAX_CHART_POINTS = 2_000;
/** Points a forecast is fitted on at most (the most recent). */
const FORECAST_POINTS = 5_000;
const MAX_FORECAST_STEPS = 2_000;

export async function metricPoints(
  s: Services,
  projectId: string,
  metricId: string,
  from: number,
  to: number,
  maxPoints: number,
) {
  await requireMetric(s, projectId, metricId);
  if (!(from < to)) throw new ServiceError('VALIDATION_FAILED', '`from` must be before `to`');
  const c = await readPoints(s, projectId, metricId, from, to);
  const n = c.time.length;
  if (n <= maxPoints)
    return {
      downsampled: false,
      points: c.time.map((t, i) => ({ timestamp: new Date(t).toISOString(), value: c.value[i], score: c.score[i] })),
    };
  const width = (to - from) / maxPoints;
  const buckets: { t: number; sum: number; min: number; max: number; score: number; count: number }[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.min(maxPoints - 1, Math.floor((c.time[i] - from) / width));
    const b = (buckets[k] ??= { t: from + k * width, sum: 0, min: Infinity, max: -Infinity, score: 0, count: 0 });
    b.sum += c.value[i];
    b.min = Math.min(b.min, c.value[i]);
    b.max = Math.max(b.max, c.value[i]);
    b.score = Math.max(b.score, c.score[i]);
    b.count++;
  }
  return {
    downsampled: true,
    points: buckets.filter(Boolean).map((b) => ({
      timestamp: new Date(Math.round(b.t)).toISOString(),
      value: b.sum / b.count,
      score: b.score,
      min: b.min,
      max: b.max,
      count: b.count,
    })),
  };
}

export async function listMetricAnomalies(
  s: Services,
  projectId: string,
  filter: AnomalyFilter,
  limit: number,
  cursor?: string,
) {
  await requireSensorsProject(s, projectId);
  return s.sensors.listAnomalies(projectId, filter, limit, cursor);
}

export async function acknowledgeMetricAnomaly(
  s: Services,
  projectId: string,
  anomalyId: string,
  by: string,
  note: string | null,
): Promise<MetricAnomaly> {
  const done = await s.sensors.acknowledgeAnomaly(projectId, anomalyId, by, note, new Date().toISOString());
  if (done) return done;
  const existing = await s.sensors.getAnomaly(projectId, anomalyId);
  if (!existing) throw new ServiceError('NOT_FOUND', `no anomaly ${anomalyId}`, { anomalyId });
  throw new ServiceError('CONFLICT', `anomaly ${anomalyId} was acknowledged already`, {
    acknowledgedAt: existing.acknowledgedAt,
    acknowledgedBy: existing.acknowledgedBy,
  });
}

/** The metric's recent points (at most FORECAST_POINTS, from the newest back). */
async function recentPoints(s: Services, metric: Metric) {
  const state = await s.series.getState(metric.id);
  if (!state) return { time: new Float64Array(), value: new Float64Array() };
  const span = Math.min(
    FORECAST_POINTS * metric.expectedIntervalSeconds * 1000,
    s.config.FAULTLINE_POINT_RETENTION_DAYS * 86_400_000,
  );
  const c = await readPoints(s, metric.projectId, metric.id, state.lastTime - span, state.lastTime);
  const from = Math.max(0, c.time.length - FORECAST_POINTS);
  return { time: Float64Array.from(c.time.slice(from)), value: Float64Array.from(c.value.slice(from)) };
}

/** Forecast of one metric with 80 % and 95 % intervals, and when its limits are expected to be crossed. */
export async function metricForecast(s: Services, projectId: string, metricId: string, horizon: string) {
  const metric = await requireMetric(s, projectId, metricId);
  const { time, value } = await recentPoints(s, metric);
  if (time.length < 20)
    throw new ServiceError('CONFLICT', `metric ${metricId} has ${time.length} scored points; a forecast needs 20`, {
      points: time.length,
    });
  const steps = horizonSteps(horizon, (time[time.length - 1] - time[0]) / (time.length - 1));
  if (!Number.isFinite(steps) || steps < 1)
    throw new ServiceError('VALIDATION_FAILED', `horizon "${horizon}" is not a duration like 24h, 7d or 90m`);
  if (steps > MAX_FORECAST_STEPS)
    throw new ServiceError(
      'VALIDATION_FAILED',
      `horizon "${horizon}" is ${steps} steps of this metric; at most ${MAX_FORECAST_STEPS}`,
    );
  const forecast = forecastSeries(value, time, steps);
  const last = value[value.length - 1];
  const crossings: LimitCrossing[] = [];
  if (metric.limits.upper !== undefined) crossings.push(limitCrossing(forecast.points, last, metric.limits.upper));
  if (metric.limits.lower !== undefined) crossings.push(limitCrossing(forecast.points, last, metric.limits.lower));
  return {
    metricId,
    model: forecast.model,
    season: forecast.season,
    intervalSeconds: forecast.intervalMs / 1000,
    points: forecast.points.map((p) => ({ ...p, time: new Date(p.time).toISOString() })),
    limitCrossings: crossings,
  };
}

/** Per asset: which metric is expected to cross a limit within the horizon, when, and how sure; soonest first. */
export async function assetMaintenance(s: Services, projectId: string, assetId: string, horizon: string) {
  const asset = await requireAsset(s, projectId, assetId);
  const metrics = (await s.sensors.listMetrics(projectId, { assetId })).filter(
    (m) => m.limits.upper !== undefined || m.limits.lower !== undefined,
  );
  const items = [];
  const skipped: { metricId: string; reason: string }[] = [];
  for (const m of metrics) {
    try {
      const f = await metricForecast(s, projectId, m.id, horizon);
      const best = [...f.limitCrossings].sort((a, b) => b.probability - a.probability)[0];
      items.push({ metricId: m.id, metricName: m.name, unit: m.unit, ...best });
    } catch (error) {
      if (!(error instanceof ServiceError) || error.status >= 500) throw error;
      skipped.push({ metricId: m.id, reason: error.message });
    }
  }
  const when = (i: { bound95_crossing: string | null; forecast_crossing: string | null }) =>
    i.bound95_crossing ?? i.forecast_crossing ?? '9999';
  items.sort((a, b) => when(a).localeCompare(when(b)) || b.probability - a.probability);
  return { assetId, assetName: asset.name, horizon, items, skipped };
}

import type { Schemas } from './client.ts';

/** The sensors side of the API as the console uses it: sites, assets, metrics, points, anomalies, forecasts. */
export type Site = Schemas['Site'];
export type Asset = Schemas['Asset'];
export type Metric = Schemas['Metric'];
export type MetricPoint = Schemas['MetricPoint'];
export type MetricAnomaly = Schemas['MetricAnomaly'];
export type Severity = MetricAnomaly['severity'];

/** Calm to severe, the order the API lists them in (`severity=` filter). */
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export type ForecastPoint = Schemas['ForecastPoint'];
export type LimitCrossing = Schemas['LimitCrossing'];
export type MetricForecast = Schemas['MetricForecast'];
/** GET .../assets/{id}/maintenance: per metric with limits, the likeliest crossing; soonest first. */
export type AssetMaintenance = Schemas['AssetMaintenance'];

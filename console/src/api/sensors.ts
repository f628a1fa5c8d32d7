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

/** One step of a forecast (GET .../metrics/{id}/forecast): the point forecast with its 80 % and 95 % intervals. */
export interface ForecastPoint {
  time: string;
  value: number;
  lower80: number;
  upper80: number;
  lower95: number;
  upper95: number;
}

/** When a forecast reaches one of the metric's limits (null: not within the horizon). */
export interface LimitCrossing {
  limit: number;
  direction: 'rising' | 'falling';
  forecast_crossing: string | null;
  bound95_crossing: string | null;
  probability: number;
  confidence: 'low' | 'medium' | 'high';
}

export interface MetricForecast {
  metricId: string;
  model: string;
  season: number;
  intervalSeconds: number;
  points: ForecastPoint[];
  limitCrossings: LimitCrossing[];
}

/** GET .../assets/{id}/maintenance: per metric with limits, the likeliest crossing; soonest first. */
export interface MaintenanceItem extends LimitCrossing {
  metricId: string;
  metricName: string;
  unit: string;
}
export interface AssetMaintenance {
  assetId: string;
  assetName: string;
  horizon: string;
  items: MaintenanceItem[];
  skipped: { metricId: string; reason: string }[];
}

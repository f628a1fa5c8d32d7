import { chooseModel, type ModelScore } from './backtest.ts';
import type { ModelName } from './models.ts';
import { nominalInterval } from './season.ts';

export interface ForecastPoint {
  time: number; // ms
  value: number;
  lower80: number;
  upper80: number;
  lower95: number;
  upper95: number;
}

export interface SeriesForecast {
  model: ModelName;
  params?: { alpha: number; beta: number; gamma: number; phi: number; m: number };
  season: number; // points per season, 1 = none
  intervalMs: number;
  backtest: ModelScore[];
  points: ForecastPoint[];
}

/** Forecast `horizon` steps after the last point, with the model the backtest prefers and its empirical intervals. */
export function forecastSeries(values: Float64Array, time: Float64Array, horizon: number): SeriesForecast {
  const choice = chooseModel(values, time, horizon);
  const [forecast] = choice.model.forecastAt([values.length], horizon);
  const intervalMs = nominalInterval(time);
  const last = time[time.length - 1];
  const points: ForecastPoint[] = Array.from(forecast, (value, i) => ({
    time: last + (i + 1) * intervalMs,
    value,
    lower80: value - choice.halfWidth80[i],
    upper80: value + choice.halfWidth80[i],
    lower95: value - choice.halfWidth95[i],
    upper95: value + choice.halfWidth95[i],
  }));
  return {
    model: choice.model.name,
    params: choice.model.params,
    season: choice.season,
    intervalMs,
    backtest: choice.scores,
    points,
  };
}

/** `24h`, `7d`, `90m`, `3600s` as a number of steps of the series' interval; a bare number is steps. */
export function horizonSteps(text: string, intervalMs: number): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?$/.exec(text.trim());
  if (!m) return Number.NaN;
  const amount = Number(m[1]);
  if (!m[2]) return Math.round(amount);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return intervalMs > 0 ? Math.max(1, Math.round((amount * unit) / intervalMs)) : Number.NaN;
}

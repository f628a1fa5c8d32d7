import { candidateModels, type FittedModel, type ModelName, seasonalNaive } from './models.ts';
import { detectSeason } from './season.ts';

export interface ModelScore {
  model: ModelName;
  mae: number;
  mase: number; // MAE / MAE of the seasonal naive forecast from the same origins and horizons
}

export interface ModelChoice {
  model: FittedModel;
  season: number;
  scores: ModelScore[];
  /** Half-widths of the 80 % and 95 % intervals per horizon step, from the chosen model's backtest errors. */
  halfWidth80: Float64Array;
  halfWidth95: Float64Array;
}

/** Evenly spaced forecast origins in [from, to), at most `count`. */
export function origins(from: number, to: number, count: number): number[] {
  const span = Math.max(1, to - from);
  const n = Math.max(1, Math.min(count, span));
  return Array.from({ length: n }, (_, i) => from + Math.floor((i * span) / n));
}

/** Absolute errors per horizon step of a model over origins, where the actual value is known. */
export function errorsByStep(
  model: FittedModel,
  values: ArrayLike<number>,
  at: readonly number[],
  horizon: number,
): number[][] {
  const forecasts = model.forecastAt(at, horizon);
  const errors: number[][] = Array.from({ length: horizon }, () => []);
  at.forEach((origin, k) => {
    for (let h = 1; h <= horizon && origin - 1 + h < values.length; h++)
      errors[h - 1].push(Math.abs(values[origin - 1 + h] - forecasts[k][h - 1]));
  });
  return errors;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
}

/**
 * Interval half-widths per step: the q-quantile of the absolute backtest errors at nearby steps (3/4 h .. 4/3 h,
 * so that early steps with few errors borrow from their neighbours), made non-decreasing in h: uncertainty does not
 * shrink with distance.
 */
export function halfWidths(errors: number[][], q: number): Float64Array {
  const horizon = errors.length;
  const out = new Float64Array(horizon);
  // Exact at steps 1..8 and then every 1/8 more (the pool spans a third of h anyway); held in between.
  let next = 1;
  let held = 0;
  for (let h = 1; h <= horizon; h++) {
    if (h === next) {
      const pool: number[] = [];
      const lo = Math.max(1, Math.floor(h * 0.75));
      const hi = Math.min(horizon, Math.max(h + 2, Math.ceil(h * 1.34)));
      for (let k = lo; k <= hi; k++) for (const e of errors[k - 1]) pool.push(e);
      pool.sort((a, b) => a - b);
      held = quantile(pool, q);
      next = Math.max(h + 1, Math.floor(h * 1.125));
    }
    out[h - 1] = Math.max(held, h > 1 ? out[h - 2] : 0);
  }
  return out;
}

const ORIGINS = 40; // backtest origins: enough errors for a 95 % quantile per horizon region

/**
 * Chooses the model by a rolling-origin backtest over the last 20 % of the history (fitted on what precedes it),
 * then refits the chosen one on everything. Intervals come from the chosen model's backtest errors.
 */
export function chooseModel(values: Float64Array, time: ArrayLike<number>, horizon: number): ModelChoice {
  const n = values.length;
  const season = detectSeason(time, values);
  const testFrom = Math.max(Math.min(n - 1, 2 * season + 2), Math.floor(n * 0.8));
  const at = origins(testFrom, Math.max(testFrom + 1, n - 1), ORIGINS);
  const candidates = candidateModels(values, season, testFrom);
  const yardstick = meanOf(errorsByStep(seasonalNaive(values, season), values, at, horizon));
  const errors = candidates.map((model) => errorsByStep(model, values, at, horizon));
  const maes = errors.map(meanOf);
  let best = 0;
  maes.forEach((mae, i) => {
    if (mae < maes[best]) best = i;
  });
  const scores: ModelScore[] = candidates.map((model, i) => ({
    model: model.name,
    mae: round(maes[i]),
    mase: round(yardstick > 0 ? maes[i] / yardstick : 1),
  }));
  const refitted = candidateModels(values, season, n)[best];
  return {
    model: refitted,
    season,
    scores,
    halfWidth80: halfWidths(errors[best], 0.8),
    halfWidth95: halfWidths(errors[best], 0.95),
  };
}

function meanOf(errors: number[][]): number {
  let sum = 0;
  let count = 0;
  for (const step of errors)
    for (const e of step) {
      sum += e;
      count++;
    }
  return count === 0 ? 0 : sum / count;
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 10_000) / 10_000 : x;
}

import { chooseModel, origins } from './backtest.ts';
import type { ModelName } from './models.ts';
import { seasonalNaive } from './models.ts';

export interface ForecastEvaluation {
  points: number;
  season: number;
  horizon: number;
  origins: number;
  models: Partial<Record<ModelName, number>>; // how often each was chosen
  mae: number;
  mase: number; // MAE of the chosen forecasts / MAE of seasonal naive from the same origins
  coverage80: number; // share of actual values inside the 80 % interval
  coverage95: number;
}

/**
 * Rolling-origin evaluation over the last 20 % of a series: at each origin the whole procedure (season, model
 * choice by its own inner backtest, intervals) sees only the points before it, as it would in production.
 */
export function evaluateForecasts(
  values: Float64Array,
  time: Float64Array,
  horizon: number,
  count = 10,
): ForecastEvaluation {
  const n = values.length;
  const from = Math.floor(n * 0.8);
  const at = origins(from, Math.max(from + 1, n - horizon), count);
  let absErr = 0;
  let naiveErr = 0;
  let inside80 = 0;
  let inside95 = 0;
  let scored = 0;
  let season = 1;
  const models: Partial<Record<ModelName, number>> = {};
  for (const origin of at) {
    const history = values.subarray(0, origin);
    const choice = chooseModel(history, time.subarray(0, origin), horizon);
    season = choice.season;
    models[choice.model.name] = (models[choice.model.name] ?? 0) + 1;
    const [forecast] = choice.model.forecastAt([origin], horizon);
    const [naive] = seasonalNaive(values, choice.season).forecastAt([origin], horizon);
    for (let h = 1; h <= horizon && origin - 1 + h < n; h++) {
      const actual = values[origin - 1 + h];
      const e = Math.abs(actual - forecast[h - 1]);
      absErr += e;
      naiveErr += Math.abs(actual - naive[h - 1]);
      if (e <= choice.halfWidth80[h - 1]) inside80++;
      if (e <= choice.halfWidth95[h - 1]) inside95++;
      scored++;
    }
  }
  const r = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    points: n,
    season,
    horizon,
    origins: at.length,
    models,
    mae: r(absErr / Math.max(1, scored)),
    mase: r(naiveErr > 0 ? absErr / naiveErr : 1),
    coverage80: r(inside80 / Math.max(1, scored)),
    coverage95: r(inside95 / Math.max(1, scored)),
  };
}

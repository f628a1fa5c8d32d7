import {
  cloneState,
  fitHoltWinters,
  forecastFrom,
  type HoltWintersParams,
  initialState,
  update,
} from './holt-winters.ts';

export type ModelName = 'seasonal-naive' | 'naive' | 'holt-winters' | 'damped-holt' | 'combination';

/** A model fitted to a stretch of history that forecasts from any origin inside it (points known = origin). */
export interface FittedModel {
  name: ModelName;
  params?: HoltWintersParams & { m: number };
  forecastAt(origins: readonly number[], horizon: number): Float64Array[];
}

/** The value one season back (the last value when there is no season): the yardstick MASE divides by. */
export function seasonalNaive(values: ArrayLike<number>, m: number, name: ModelName = 'seasonal-naive'): FittedModel {
  return {
    name,
    forecastAt(origins, horizon) {
      return origins.map((origin) => {
        const out = new Float64Array(horizon);
        for (let h = 1; h <= horizon; h++) {
          // Point o - 1 + h is forecast by the same phase in the last season known at the origin.
          const at = origin - 1 + h - m * Math.ceil(h / m);
          out[h - 1] = values[Math.max(0, at)];
        }
        return out;
      });
    },
  };
}

/** Holt-Winters (m > 1) or damped Holt (m = 1) with parameters fitted on `values[0, fitEnd)`. */
export function holtWinters(values: ArrayLike<number>, m: number, fitEnd: number): FittedModel {
  const fitFrom = Math.max(0, fitEnd - Math.max(4000, 4 * m));
  const fitSlice = Array.prototype.slice.call(values, fitFrom, fitEnd) as number[];
  const params = fitHoltWinters(fitSlice, m);
  return {
    name: m > 1 ? 'holt-winters' : 'damped-holt',
    params: { ...params, m },
    forecastAt(origins, horizon) {
      // One pass from where the fit started; the state is copied at each origin.
      const sorted = [...origins].sort((a, b) => a - b);
      const start = Math.max(0, Math.min(fitFrom, sorted[0] - Math.max(4000, 4 * m)));
      const slice = Array.prototype.slice.call(values, start, sorted[sorted.length - 1]) as number[];
      const state = initialState(slice, m);
      const byOrigin = new Map<number, Float64Array>();
      let k = 0;
      for (let i = start; i <= sorted[sorted.length - 1]; i++) {
        while (k < sorted.length && sorted[k] === i) {
          byOrigin.set(i, forecastFrom(cloneState(state), params, horizon));
          k++;
        }
        if (i < values.length) update(state, params, values[i]);
      }
      return origins.map((o) => byOrigin.get(o) as Float64Array);
    },
  };
}

/**
 * The mean of two forecasts. Averaging a model that follows the recent level with one that repeats the last season
 * is the classic robust gain of forecast combination (M-competitions): their errors are only partly correlated.
 */
export function combination(a: FittedModel, b: FittedModel): FittedModel {
  return {
    name: 'combination',
    params: a.params ?? b.params,
    forecastAt(origins, horizon) {
      const fa = a.forecastAt(origins, horizon);
      const fb = b.forecastAt(origins, horizon);
      return fa.map((f, k) => f.map((v, h) => (v + fb[k][h]) / 2));
    },
  };
}

/** The candidate models for a series with season m, fitted on its first `fitEnd` points. */
export function candidateModels(values: ArrayLike<number>, m: number, fitEnd: number): FittedModel[] {
  const naive = seasonalNaive(values, m, m > 1 ? 'seasonal-naive' : 'naive');
  const smooth = holtWinters(values, m, fitEnd);
  const models = [naive, smooth, combination(naive, smooth)];
  if (m > 1) models.push(seasonalNaive(values, 1, 'naive'), holtWinters(values, 1, fitEnd));
  return models;
}

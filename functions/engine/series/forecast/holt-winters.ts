/**
 * Additive Holt-Winters with a damped trend (Gardner & McKenzie): level, trend damped by phi, and an additive
 * season of length m (m = 1: no season, Holt's damped trend). One pass over the data; the state at any point
 * forecasts ahead.
 */
export interface HoltWintersParams {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

export interface HoltWintersState {
  level: number;
  trend: number;
  season: Float64Array; // indexed by t mod m
  t: number; // points consumed
  m: number;
}

export function initialState(values: ArrayLike<number>, m: number): HoltWintersState {
  const season = new Float64Array(m);
  if (m > 1 && values.length >= 2 * m) {
    // The classic start from the first two seasons: their means give level and trend, the detrended points the
    // season; the level is wound back to just before the first point.
    let first = 0;
    let second = 0;
    for (let i = 0; i < m; i++) {
      first += values[i];
      second += values[m + i];
    }
    first /= m;
    second /= m;
    const trend = (second - first) / m;
    const centre = (m - 1) / 2;
    for (let i = 0; i < m; i++)
      season[i] = (values[i] - (first + trend * (i - centre)) + values[m + i] - (first + trend * (m + i - centre))) / 2;
    return { level: first - trend * (centre + 1), trend, season, t: 0, m };
  }
  return { level: values[0] ?? 0, trend: 0, season, t: 0, m };
}

/** Consumes one value; returns the one-step forecast error it made. */
export function update(state: HoltWintersState, p: HoltWintersParams, y: number): number {
  const s = state.m > 1 ? state.season[state.t % state.m] : 0;
  const forecast = state.level + p.phi * state.trend + s;
  const level = p.alpha * (y - s) + (1 - p.alpha) * (state.level + p.phi * state.trend);
  state.trend = p.beta * (level - state.level) + (1 - p.beta) * p.phi * state.trend;
  if (state.m > 1) state.season[state.t % state.m] = p.gamma * (y - level) + (1 - p.gamma) * s;
  state.level = level;
  state.t++;
  return y - forecast;
}

/** Forecasts h = 1..horizon steps after the state's last point. */
export function forecastFrom(state: HoltWintersState, p: HoltWintersParams, horizon: number): Float64Array {
  const out = new Float64Array(horizon);
  let damp = 0;
  let phiK = 1;
  for (let h = 1; h <= horizon; h++) {
    phiK *= p.phi;
    damp += phiK;
    const s = state.m > 1 ? state.season[(state.t + h - 1) % state.m] : 0;
    out[h - 1] = state.level + damp * state.trend + s;
  }
  return out;
}

export function cloneState(state: HoltWintersState): HoltWintersState {
  return { ...state, season: state.season.slice() };
}

const GRID = {
  alpha: [0.05, 0.15, 0.3, 0.5, 0.8, 0.95],
  beta: [0, 0.02, 0.1],
  gamma: [0.02, 0.1, 0.3],
  phi: [0.9, 0.98],
};

/**
 * Parameters by the smallest sum of squared one-step errors over a grid (coarse but bounded: 108 passes, no
 * optimiser that can wander off). The first two seasons initialise the state and are not scored.
 */
export function fitHoltWinters(values: ArrayLike<number>, m: number): HoltWintersParams {
  let best: HoltWintersParams = { alpha: 0.5, beta: 0, gamma: 0.1, phi: 0.98 };
  let bestSse = Number.POSITIVE_INFINITY;
  const skip = m > 1 && values.length >= 2 * m ? 2 * m : 1;
  for (const alpha of GRID.alpha)
    for (const beta of GRID.beta)
      for (const gamma of m > 1 ? GRID.gamma : [0])
        for (const phi of GRID.phi) {
          const p = { alpha, beta, gamma, phi };
          const state = initialState(values, m);
          let sse = 0;
          for (let i = 0; i < values.length; i++) {
            const e = update(state, p, values[i]);
            if (i >= skip) sse += e * e;
            if (sse >= bestSse) break;
          }
          if (sse < bestSse) {
            bestSse = sse;
            best = p;
          }
        }
  return best;
}

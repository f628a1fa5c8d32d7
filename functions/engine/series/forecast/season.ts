const DAY_MS = 86_400_000;

/** The median spacing of the points: the series' nominal interval. */
export function nominalInterval(time: ArrayLike<number>): number {
  const n = Math.min(time.length - 1, 2000);
  if (n < 1) return 0;
  const deltas = new Float64Array(n);
  for (let i = 0; i < n; i++) deltas[i] = time[time.length - n + i] - time[time.length - n + i - 1];
  deltas.sort();
  return deltas[n >> 1];
}

/** Autocorrelation of `values` at `lag` (0 when undefined). */
export function autocorrelation(values: ArrayLike<number>, lag: number): number {
  const n = values.length;
  if (lag <= 0 || lag >= n - 2) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    den += d * d;
    if (i >= lag) num += d * (values[i - lag] - mean);
  }
  return den === 0 ? 0 : num / den;
}

/**
 * The season length in points, from the calendar rather than a blind search: sensors follow the day and the week.
 * A candidate (a day, a week) counts when the series holds at least three of it and its autocorrelation is clear;
 * the stronger one wins. 1 means no season.
 */
export function detectSeason(time: ArrayLike<number>, values: ArrayLike<number>): number {
  const interval = nominalInterval(time);
  if (!(interval > 0)) return 1;
  let best = 1;
  let bestAcf = 0.3;
  for (const period of [DAY_MS, 7 * DAY_MS]) {
    const m = Math.round(period / interval);
    if (m < 2 || Math.abs(m * interval - period) > interval / 2 || values.length < 3 * m) continue;
    const acf = autocorrelation(values, m);
    if (acf > bestAcf) {
      best = m;
      bestAcf = acf;
    }
  }
  return best;
}

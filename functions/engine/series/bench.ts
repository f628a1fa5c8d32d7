import { seededRandom } from '../math/random.ts';
import type { SeriesDetectorSettings } from './detector-settings.ts';
import { SeriesDetector } from './detector.ts';
import { forecastSeries } from './forecast/forecast.ts';

export interface SeriesBenchReport {
  points: number;
  detection: { seconds: number; points_per_second: number };
  baseline: { name: string; seconds: number; points_per_second: number };
  ratio: number; // detection speed / baseline speed
  forecast_week_hourly: { points: number; horizon: number; median_ms: number; runs: number; model: string };
}

/**
 * The yardstick for detection speed: a rolling mean and standard deviation over the same window length, O(1) per
 * point with running sums: the cheapest detector worth the name (NAB's windowed Gaussian).
 */
export function rollingGaussianScores(values: Float64Array, window: number): Float64Array {
  const out = new Float64Array(values.length);
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < values.length; i++) {
    const n = Math.min(i, window);
    if (n > 1) {
      const mean = sum / n;
      const sd = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
      const z = sd > 0 ? Math.abs(values[i] - mean) / sd : 0;
      out[i] = z / (z + 3);
    }
    sum += values[i];
    sumSq += values[i] * values[i];
    if (i >= window) {
      sum -= values[i - window];
      sumSq -= values[i - window] * values[i - window];
    }
  }
  return out;
}

/** A week of hourly readings with a daily cycle, a slow trend and noise: the forecast benchmark's input. */
export function syntheticWeekHourly(seed = 1): { time: Float64Array; values: Float64Array } {
  const random = seededRandom(seed);
  const n = 168;
  const time = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    time[i] = Date.UTC(2024, 0, 1) + i * 3_600_000;
    values[i] = 60 + 0.02 * i + 8 * Math.sin((2 * Math.PI * i) / 24) + (random() - 0.5) * 2;
  }
  return { time, values };
}

/** Times detection over the given series (concatenated in turn, each with a fresh detector) and the baseline. */
export function benchSeries(
  series: { time: Float64Array; values: Float64Array }[],
  settings: Partial<SeriesDetectorSettings> = {},
  onProgress?: (done: number, total: number) => void,
): SeriesBenchReport {
  const points = series.reduce((n, s) => n + s.values.length, 0);
  let sink = 0; // keeps the work observable so that it is not optimised away
  const t0 = performance.now();
  series.forEach((s, k) => {
    const detector = new SeriesDetector(settings);
    for (let i = 0; i < s.values.length; i++) sink += detector.step(s.time[i], s.values[i]).score;
    onProgress?.(k + 1, series.length + 1);
  });
  const detectionSeconds = (performance.now() - t0) / 1000;
  const window = { window: 384, ...settings }.window;
  const t1 = performance.now();
  for (const s of series) sink += rollingGaussianScores(s.values, window)[0];
  const baselineSeconds = (performance.now() - t1) / 1000;

  const week = syntheticWeekHourly();
  const times: number[] = [];
  let model = '';
  for (let run = 0; run < 21; run++) {
    const t = performance.now();
    model = forecastSeries(week.values, week.time, 24).model;
    times.push(performance.now() - t);
  }
  onProgress?.(series.length + 1, series.length + 1);
  times.sort((a, b) => a - b);
  if (Number.isNaN(sink)) throw new Error('benchmark produced NaN');
  const pps = (n: number, s: number) => Math.round(n / Math.max(s, 1e-9));
  return {
    points,
    detection: { seconds: round(detectionSeconds), points_per_second: pps(points, detectionSeconds) },
    baseline: {
      name: `rolling mean/std, window ${window}`,
      seconds: round(baselineSeconds),
      points_per_second: pps(points, baselineSeconds),
    },
    ratio: round(baselineSeconds / detectionSeconds),
    forecast_week_hourly: {
      points: week.values.length,
      horizon: 24,
      median_ms: round(times[10]),
      runs: times.length,
      model,
    },
  };
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { halfWidths, origins } from '../../../functions/engine/series/forecast/backtest.ts';
import { evaluateForecasts } from '../../../functions/engine/series/forecast/forecast-eval.ts';
import { forecastSeries, horizonSteps } from '../../../functions/engine/series/forecast/forecast.ts';
import { forecastFrom, initialState, update } from '../../../functions/engine/series/forecast/holt-winters.ts';
import { limitCrossing } from '../../../functions/engine/series/forecast/limit-crossing.ts';
import { seasonalNaive } from '../../../functions/engine/series/forecast/models.ts';
import { autocorrelation, detectSeason, nominalInterval } from '../../../functions/engine/series/forecast/season.ts';

const HOUR = 3_600_000;

function hourly(n: number, f: (i: number) => number): { time: Float64Array; values: Float64Array } {
  return {
    time: Float64Array.from({ length: n }, (_, i) => Date.UTC(2024, 0, 1) + i * HOUR),
    values: Float64Array.from({ length: n }, (_, i) => f(i)),
  };
}

describe('season', () => {
  it('finds the daily season of hourly data and none in noise', () => {
    const random = seededRandom(5);
    const daily = hourly(24 * 14, (i) => Math.sin((2 * Math.PI * i) / 24) + 0.1 * random());
    expect(nominalInterval(daily.time)).toBe(HOUR);
    expect(detectSeason(daily.time, daily.values)).toBe(24);
    const noise = hourly(24 * 14, () => random());
    expect(detectSeason(noise.time, noise.values)).toBe(1);
  });

  it('autocorrelation matches the textbook formula on a small example', () => {
    const x = [1, 3, 2, 5, 4];
    const mean = 3;
    const num = (3 - 3) * (1 - 3) + (2 - 3) * (3 - 3) + (5 - 3) * (2 - 3) + (4 - 3) * (5 - 3);
    const den = [1, 3, 2, 5, 4].reduce((s, v) => s + (v - mean) ** 2, 0);
    expect(autocorrelation(x, 1)).toBeCloseTo(num / den, 12);
  });
});

describe('models', () => {
  it('seasonal naive repeats the last season', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8];
    const [f] = seasonalNaive(values, 3).forecastAt([8], 5);
    expect(Array.from(f)).toEqual([6, 7, 8, 6, 7]);
    const [naive] = seasonalNaive(values, 1).forecastAt([5], 3);
    expect(Array.from(naive)).toEqual([5, 5, 5]);
  });

  it('Holt-Winters recovers a noiseless trend plus season exactly', () => {
    const { values } = hourly(24 * 10, (i) => 10 + 0.5 * i + 3 * Math.sin((2 * Math.PI * i) / 24));
    const p = { alpha: 0.5, beta: 0.3, gamma: 0.3, phi: 1 };
    const state = initialState(values, 24);
    for (const v of values) update(state, p, v);
    const f = forecastFrom(state, p, 48);
    for (let h = 1; h <= 48; h++) {
      const i = values.length - 1 + h;
      expect(f[h - 1]).toBeCloseTo(10 + 0.5 * i + 3 * Math.sin((2 * Math.PI * i) / 24), 3);
    }
  });

  it('a damped trend levels off: the step added at h is phi^h times the trend', () => {
    const state = { level: 10, trend: 2, season: new Float64Array(1), t: 0, m: 1 };
    const f = forecastFrom(state, { alpha: 0.5, beta: 0.1, gamma: 0, phi: 0.5 }, 3);
    expect(Array.from(f)).toEqual([10 + 1, 10 + 1 + 0.5, 10 + 1 + 0.5 + 0.25]);
  });
});

describe('intervals, backtest and limits', () => {
  it('half-widths are the pooled error quantiles and never shrink with the horizon', () => {
    const errors = [
      [1, 2, 3, 4],
      [10, 10, 10, 10],
      [0, 0, 0, 0],
    ];
    const w = halfWidths(errors, 0.5);
    expect(w[0]).toBeGreaterThan(0);
    expect(w[2]).toBeGreaterThanOrEqual(w[1]);
    expect(origins(80, 100, 5)).toEqual([80, 84, 88, 92, 96]);
  });

  it('horizons in time or steps', () => {
    expect(horizonSteps('24h', HOUR)).toBe(24);
    expect(horizonSteps('1d', 300_000)).toBe(288);
    expect(horizonSteps('90m', 1_800_000)).toBe(3);
    expect(horizonSteps('12', HOUR)).toBe(12);
    expect(horizonSteps('soon', HOUR)).toBeNaN();
  });

  it('a week of hourly data: a forecast in well under 50 ms, beating seasonal naive, with honest coverage', () => {
    const random = seededRandom(9);
    const series = hourly(
      24 * 7 * 6,
      (i) => 60 + 0.01 * i + 8 * Math.sin((2 * Math.PI * i) / 24) + (random() - 0.5) * 3,
    );
    const week = { time: series.time.subarray(-168), values: series.values.subarray(-168) };
    forecastSeries(week.values, week.time, 24); // warm the JIT
    const t0 = performance.now();
    const f = forecastSeries(week.values, week.time, 24);
    expect(performance.now() - t0).toBeLessThan(50);
    expect(f.season).toBe(24);
    expect(f.points.length).toBe(24);
    for (const p of f.points)
      expect(p.lower95 <= p.lower80 && p.lower80 <= p.value && p.value <= p.upper80 && p.upper80 <= p.upper95).toBe(
        true,
      );
    const evaluation = evaluateForecasts(series.values, series.time, 24, 10);
    expect(evaluation.mase).toBeLessThan(1);
    expect(evaluation.coverage95).toBeGreaterThan(0.85);
  });

  it('a rising temperature crosses its limit when the line says, the 95 % bound earlier', () => {
    const points = Array.from({ length: 10 }, (_, i) => ({
      time: (i + 1) * HOUR,
      value: 90 + i,
      lower80: 88 + i,
      upper80: 92 + i,
      lower95: 87 + i,
      upper95: 93 + i,
    }));
    const c = limitCrossing(points, 89, 95);
    expect(c.direction).toBe('rising');
    expect(c.forecast_crossing).toBe(new Date(6 * HOUR).toISOString()); // 90 + 5 = 95 at the 6th step
    expect(c.bound95_crossing).toBe(new Date(3 * HOUR).toISOString()); // 93 + 2 = 95
    expect(c.probability).toBeGreaterThan(0.99);
    const never = limitCrossing(points, 89, 500);
    expect(never.forecast_crossing).toBeNull();
    expect(never.confidence).toBe('low');
  });
});

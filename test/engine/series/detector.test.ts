import { describe, expect, it } from 'vitest';
import { SeriesDetector } from '../../../functions/engine/series/detector.ts';
import { syntheticSeries } from './helpers.ts';

function scores(time: Float64Array, value: ArrayLike<number>): number[] {
  const d = new SeriesDetector();
  return Array.from({ length: value.length }, (_, i) => d.step(time[i], value[i]).score);
}

describe('SeriesDetector', () => {
  const s = syntheticSeries(5000);
  const base = scores(s.time, s.value);

  it('scores in [0, 1], none in the warm-up, the spike and the shift alarm', () => {
    expect(base.every((x) => x >= 0 && x <= 1)).toBe(true);
    expect(Math.max(...base.slice(0, 150))).toBe(0);
    expect(base[2500]).toBeGreaterThan(0.5);
    expect(Math.max(...base.slice(4001, 4020))).toBeGreaterThan(0.4);
  });

  it('does not depend on units or on the sign of the values', () => {
    const fahrenheit = scores(
      s.time,
      Array.from(s.value, (v) => v * 1.8 + 32),
    );
    const negated = scores(
      s.time,
      Array.from(s.value, (v) => -v),
    );
    for (let i = 0; i < base.length; i++) {
      expect(fahrenheit[i]).toBeCloseTo(base[i], 3);
      expect(negated[i]).toBeCloseTo(base[i], 3);
    }
  });

  it('only past points matter: appending points never changes earlier scores', () => {
    const shorter = scores(s.time.subarray(0, 3000), s.value.subarray(0, 3000));
    expect(shorter).toEqual(base.slice(0, 3000));
  });
});

import { describe, expect, it } from 'vitest';
import {
  confidenceOf,
  normaliseMap,
  normaliseScore,
  normalThreshold,
  quantile,
  scaleFromNormals,
  scaleFromRange,
  severityOf,
  type ScoreScale,
} from '../../../functions/engine/calibration/score-scale.ts';
import {
  defaultDetectionSettings,
  detectionSettingsSchema,
} from '../../../functions/engine/detection/detection-settings.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

describe('normaliseScore', () => {
  const scale: ScoreScale = { threshold: 3, min: 1, max: 5 };

  it('maps the threshold to 0.5 and moves linearly with the range', () => {
    expect(normaliseScore(3, scale)).toBe(0.5);
    expect(normaliseScore(4, scale)).toBeCloseTo(0.75, 12);
    expect(normaliseScore(2, scale)).toBeCloseTo(0.25, 12);
    expect(normaliseScore(5, scale)).toBe(1);
    expect(normaliseScore(1, scale)).toBe(0);
  });

  it('clamps to [0, 1]', () => {
    expect(normaliseScore(100, scale)).toBe(1);
    expect(normaliseScore(-100, scale)).toBe(0);
    expect(normaliseScore(5.5, scale)).toBe(1);
  });

  it('falls back to a step when the range is empty', () => {
    const flat: ScoreScale = { threshold: 2, min: 2, max: 2 };
    expect(normaliseScore(2, flat)).toBe(1);
    expect(normaliseScore(1.999, flat)).toBe(0);
    expect(normaliseScore(7, flat)).toBe(1);
  });
});

describe('normaliseMap', () => {
  it('agrees with normaliseScore elementwise and works in place', () => {
    const random = seededRandom(81);
    for (const scale of [
      { threshold: 0.7, min: 0.1, max: 1.5 },
      { threshold: 2, min: 2, max: 2 },
      { threshold: -1, min: -3, max: 0.5 },
    ]) {
      const map = Float32Array.from({ length: 500 }, () => random() * 6 - 3);
      map[0] = scale.threshold;
      const copy = Float32Array.from(map);
      const out = normaliseMap(map, scale);
      expect(out).toBe(map);
      for (let i = 0; i < copy.length; i++) expect(out[i]).toBeCloseTo(normaliseScore(copy[i], scale), 6);
      for (const v of out) expect(v >= 0 && v <= 1).toBe(true);
    }
  });
});

describe('quantile', () => {
  it('interpolates linearly between order statistics (numpy default)', () => {
    const values = [5, 1, 4, 2, 3]; // sorted 1..5
    expect(quantile(values, 0)).toBe(1);
    expect(quantile(values, 1)).toBe(5);
    expect(quantile(values, 0.5)).toBe(3);
    expect(quantile(values, 0.25)).toBe(2);
    expect(quantile(values, 0.9)).toBeCloseTo(4.6, 12);
    expect(quantile([10, 0], 0.3)).toBeCloseTo(3, 12);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('sorts numerically, not lexicographically, and handles negatives', () => {
    expect(quantile([100, 9, 20, -5], 0)).toBe(-5);
    expect(quantile([100, 9, 20, -5], 1)).toBe(100);
    expect(quantile([100, 9, 20, -5], 0.5)).toBeCloseTo(14.5, 12);
  });

  it('matches a sorted-array computation on random data', () => {
    const random = seededRandom(82);
    const values = Array.from({ length: 101 }, () => random() * 50);
    const sorted = [...values].sort((a, b) => a - b);
    for (let k = 0; k <= 100; k++) expect(quantile(values, k / 100)).toBeCloseTo(sorted[k], 10);
    // Does not reorder its input.
    expect(values).not.toEqual(sorted);
  });
});

describe('scaleFromNormals', () => {
  it('puts the threshold at quantile * (1 + margin), min at the lowest normal, range symmetric', () => {
    const normals = [1, 2, 3, 4, 5];
    const scale = scaleFromNormals(normals, 0.5, 0.1);
    expect(scale.threshold).toBeCloseTo(3.3, 12);
    expect(scale.min).toBe(1);
    expect(scale.max).toBeCloseTo(3.3 + 2.3, 12);
    expect(normaliseScore(scale.min, scale)).toBeCloseTo(0, 12);
    expect(normaliseScore(scale.threshold, scale)).toBeCloseTo(0.5, 12);
    expect(normaliseScore(scale.max, scale)).toBeCloseTo(1, 12);
  });

  it('keeps a positive range when all normals are equal (threshold below 2)', () => {
    const scale = scaleFromNormals([1.5, 1.5, 1.5], 0.99, 0);
    expect(scale.threshold).toBe(1.5);
    expect(scale.max).toBeGreaterThan(scale.threshold);
    expect(normaliseScore(1.5, scale)).toBe(0.5);
  });

  // Regression: a fixed Number.EPSILON floor vanished once threshold >= 2, mapping the threshold to 1 instead of 0.5.
  it('keeps a positive range when all normals are equal (threshold >= 2)', () => {
    const scale = scaleFromNormals([2, 2, 2], 0.99, 0);
    expect(scale.threshold).toBe(2);
    expect(scale.max).toBeGreaterThan(scale.threshold);
    expect(normaliseScore(2, scale)).toBe(0.5);
  });
});

describe('scaleFromRange', () => {
  it('takes min and max of the scores', () => {
    expect(scaleFromRange(0.4, [0.9, 0.1, 0.5])).toEqual({ threshold: 0.4, min: 0.1, max: 0.9 });
    expect(scaleFromRange(1, [3, 3])).toEqual({ threshold: 1, min: 3, max: 4 });
  });
});

describe('severityOf', () => {
  const settings = defaultDetectionSettings();

  it('uses the default bands', () => {
    expect(severityOf(0, settings)).toBe('Normal');
    expect(severityOf(0.29, settings)).toBe('Normal');
    expect(severityOf(0.3, settings)).toBe('Potential');
    expect(severityOf(0.49, settings)).toBe('Potential');
    expect(severityOf(0.5, settings)).toBe('Overloway');
    expect(severityOf(0.79, settings)).toBe('Overloway');
    expect(severityOf(0.8, settings)).toBe('Faulty');
    expect(severityOf(1, settings)).toBe('Faulty');
  });

  it('uses custom bands', () => {
    const custom = detectionSettingsSchema.parse({ severityBands: [{ name: 'ok', below: 0.6 }, { name: 'bad' }] });
    expect(severityOf(0.59, custom)).toBe('ok');
    expect(severityOf(0.6, custom)).toBe('bad');
  });
});

describe('confidenceOf', () => {
  const settings = defaultDetectionSettings(); // medium 0.1, high 0.25

  it('grows with the distance from the decision threshold, on both sides', () => {
    expect(confidenceOf(0.5, settings)).toBe('Low');
    expect(confidenceOf(0.55, settings)).toBe('Low');
    expect(confidenceOf(0.45, settings)).toBe('Low');
    expect(confidenceOf(0.65, settings)).toBe('Medium');
    expect(confidenceOf(0.6, settings)).toBe('Medium'); // 0.6 - 0.5 is 0.09999... in floats
    expect(confidenceOf(0.35, settings)).toBe('Medium');
    expect(confidenceOf(0.75, settings)).toBe('High'); // exactly 0.25 away
    expect(confidenceOf(0.25, settings)).toBe('High');
    expect(confidenceOf(1, settings)).toBe('High');
    expect(confidenceOf(0, settings)).toBe('High');
  });

  it('accepts another decision point', () => {
    expect(confidenceOf(0.2, settings, 0.2)).toBe('Low');
    expect(confidenceOf(0.35, settings, 0.2)).toBe('Medium');
    expect(confidenceOf(0.6, settings, 0.2)).toBe('High');
  });
});

describe('detectionSettingsSchema', () => {
  it('has the documented defaults', () => {
    const s = defaultDetectionSettings();
    expect(s.severityBands.map((b) => b.name)).toEqual(['Normal', 'Potential', 'Overloway', 'Faulty']);
    expect(s.severityBands.map((b) => b.below)).toEqual([0.3, 0.5, 0.8, undefined]);
    expect(s.confidence).toEqual({ medium: 0.1, high: 0.25 });
  });

  it('rejects decreasing or equal bands', () => {
    expect(
      detectionSettingsSchema.safeParse({
        severityBands: [{ name: 'a', below: 0.5 }, { name: 'b', below: 0.3 }, { name: 'c' }],
      }).success,
    ).toBe(false);
    expect(
      detectionSettingsSchema.safeParse({
        severityBands: [{ name: 'a', below: 0.5 }, { name: 'b', below: 0.5 }, { name: 'c' }],
      }).success,
    ).toBe(false);
    expect(
      detectionSettingsSchema.safeParse({
        severityBands: [{ name: 'a', below: 0.3 }, { name: 'b', below: 0.5 }, { name: 'c' }],
      }).success,
    ).toBe(true);
  });

  it('rejects a last band with "below" and a middle band without', () => {
    expect(
      detectionSettingsSchema.safeParse({
        severityBands: [
          { name: 'a', below: 0.3 },
          { name: 'b', below: 0.9 },
        ],
      }).success,
    ).toBe(false);
    expect(detectionSettingsSchema.safeParse({ severityBands: [{ name: 'a' }, { name: 'b' }] }).success).toBe(false);
    expect(detectionSettingsSchema.safeParse({ severityBands: [{ name: 'only' }] }).success).toBe(true);
  });

  it('rejects confidence.high <= confidence.medium', () => {
    expect(detectionSettingsSchema.safeParse({ confidence: { medium: 0.2, high: 0.2 } }).success).toBe(false);
    expect(detectionSettingsSchema.safeParse({ confidence: { medium: 0.3, high: 0.2 } }).success).toBe(false);
  });
});

describe('normalThreshold', () => {
  it('places the sigma rule at mean + k sample standard deviations', () => {
    // mean 3, sample variance 2.5
    expect(normalThreshold([1, 2, 3, 4, 5], { sigmas: 2 })).toBeCloseTo(3 + 2 * Math.sqrt(2.5), 12);
    expect(normalThreshold([5, 1, 4, 2, 3], { sigmas: 0 })).toBeCloseTo(3, 12);
  });

  it('takes the largest score when there are too few for a standard deviation', () => {
    expect(normalThreshold([2, 7], { sigmas: 2 })).toBe(7);
    expect(normalThreshold([4], { sigmas: 2 })).toBe(4);
  });

  it('follows the quantile rule when asked, as a bare number does in scaleFromNormals', () => {
    expect(normalThreshold([1, 2, 3, 4, 5], { quantile: 0.5 })).toBe(3);
    expect(scaleFromNormals([1, 2, 3, 4, 5], 0.5, 0).threshold).toBe(3);
    expect(scaleFromNormals([1, 2, 3, 4, 5], { sigmas: 1 }, 0.5).threshold).toBeCloseTo((3 + Math.sqrt(2.5)) * 1.5, 12);
  });
});

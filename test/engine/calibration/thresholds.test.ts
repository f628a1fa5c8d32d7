import { describe, expect, it } from 'vitest';
import { calibrateThresholds } from '../../../functions/engine/calibration/thresholds.ts';

describe('pixel threshold from normal images', () => {
  it('follows the rule over the maps’ maxima, not their single largest (one odd image of 31 must not hide defects)', () => {
    const maxima = Array.from({ length: 30 }, (_, i) => 3 + (i % 5) * 0.05);
    maxima.push(4.3);
    const t = calibrateThresholds(
      { normalImageScores: maxima, normalPixelMaxima: maxima, anomalousImageScores: [] },
      { rule: { sigmas: 2 }, margin: 0 },
    );
    const mean = maxima.reduce((a, v) => a + v, 0) / maxima.length;
    const sd = Math.sqrt(maxima.reduce((a, v) => a + (v - mean) ** 2, 0) / (maxima.length - 1));
    expect(t.pixel.threshold).toBeCloseTo(mean + 2 * sd, 10);
    expect(t.pixel.threshold).toBeLessThan(4.3);
  });
});

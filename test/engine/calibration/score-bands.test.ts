import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boundAtThreshold,
  normaliseMap,
  normaliseScore,
  onCalibratedScale,
  SCORE_HISTOGRAM_BINS,
  type ScoreScale,
  scoreHistogram,
  severityOf,
} from '../../../functions/engine/calibration/score-scale.ts';
import { calibrateThresholds } from '../../../functions/engine/calibration/thresholds.ts';
import {
  CALIBRATED_NORMAL_CEILING,
  CALIBRATED_THRESHOLD,
  defaultDetectionSettings,
  SCORE_STEP,
} from '../../../functions/engine/detection/detection-settings.ts';

const settings = defaultDetectionSettings();
const FLAGGED_BANDS = ['Overloway', 'Faulty'];

describe('the normal anchor', () => {
  const anchored: ScoreScale = { threshold: 3, min: 1, max: 5, normal: 2.5 };

  it('maps min, the normals’ high end and the threshold to 0, the top of Normal and 0.5, linearly between', () => {
    expect(normaliseScore(1, anchored)).toBe(0);
    expect(normaliseScore(2.5, anchored)).toBeCloseTo(CALIBRATED_NORMAL_CEILING, 12);
    expect(normaliseScore(1.75, anchored)).toBeCloseTo(CALIBRATED_NORMAL_CEILING / 2, 12);
    expect(normaliseScore(2.75, anchored)).toBeCloseTo((CALIBRATED_NORMAL_CEILING + CALIBRATED_THRESHOLD) / 2, 12);
    expect(normaliseScore(3, anchored)).toBe(CALIBRATED_THRESHOLD);
  });

  it('leaves the scale above the threshold as it was', () => {
    const linear: ScoreScale = { threshold: 3, min: 1, max: 5 };
    for (const raw of [3, 3.5, 4.2, 5, 9]) expect(normaliseScore(raw, anchored)).toBe(normaliseScore(raw, linear));
  });

  it('is ignored when it does not lie strictly between min and the threshold (old or degenerate scales)', () => {
    for (const normal of [1, 0.5, 3, 4]) {
      const scale = { threshold: 3, min: 1, max: 5, normal };
      expect(normaliseScore(2, scale)).toBeCloseTo(0.25, 12);
    }
  });

  it('is monotone, and normaliseMap agrees with normaliseScore', () => {
    const raws = Array.from({ length: 200 }, (_, i) => i * 0.03);
    const scores = raws.map((r) => normaliseScore(r, anchored));
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThanOrEqual(scores[i - 1]);
    const map = normaliseMap(Float32Array.from(raws), anchored);
    map.forEach((v, i) => expect(v).toBeCloseTo(normaliseScore(Math.fround(raws[i]), anchored), 6));
  });

  it('is placed by calibration among the normals and below the threshold, with the calibration histogram', () => {
    const normals = [2, 2.2, 2.4, 2.5, 2.6, 2.9];
    const t = calibrateThresholds(
      { normalImageScores: normals, normalPixelMaxima: normals, anomalousImageScores: [] },
      { rule: { sigmas: 2 }, margin: 0 },
    );
    // mean + 1 sd of the normals (sample standard deviation, as the threshold rule), under the threshold
    const mean = normals.reduce((a, b) => a + b) / normals.length;
    const sd = Math.sqrt(normals.reduce((a, b) => a + (b - mean) ** 2, 0) / (normals.length - 1));
    expect(t.image.normal).toBeCloseTo(mean + sd, 6);
    expect(t.image.normal).toBeLessThan(t.image.threshold);
    expect(t.histogram!.normals.reduce((a, b) => a + b)).toBe(normals.length);
    expect(t.histogram!.defects).toEqual(new Array(SCORE_HISTOGRAM_BINS).fill(0));
    // The calibration normals read Normal but for their high tail, which reads Potential: none is flagged.
    const bands = normals.map((n) => severityOf(normaliseScore(n, t.image), settings));
    expect(bands.filter((b) => b === 'Normal').length).toBeGreaterThanOrEqual(normals.length - 1);
    expect(bands.every((b) => b === 'Normal' || b === 'Potential')).toBe(true);
  });

  it('is left out with a single calibration image, whose scale stays linear', () => {
    const t = calibrateThresholds(
      { normalImageScores: [2], normalPixelMaxima: [2], anomalousImageScores: [] },
      { rule: { sigmas: 2 }, margin: 0.1 },
    );
    expect(t.image.normal).toBeUndefined();
  });

  it('counts labelled defects beside the normals', () => {
    const t = calibrateThresholds(
      { normalImageScores: [1, 1.2, 1.4, 1.5], normalPixelMaxima: [1, 1.2, 1.4, 1.5], anomalousImageScores: [3, 4] },
      { rule: { sigmas: 2 }, margin: 0 },
    );
    expect(t.histogram!.defects.reduce((a, b) => a + b)).toBe(2);
    expect(t.histogram!.defects.slice(0, SCORE_HISTOGRAM_BINS / 2)).toEqual(
      new Array(SCORE_HISTOGRAM_BINS / 2).fill(0),
    );
  });
});

describe('scoreHistogram', () => {
  it('counts scores in equal bins over 0..1, 1 in the last', () => {
    const h = scoreHistogram([0, 0.049, 0.05, 0.5, 0.999, 1]);
    expect(h).toHaveLength(SCORE_HISTOGRAM_BINS);
    expect(h[0]).toBe(2);
    expect(h[1]).toBe(1);
    expect(h[10]).toBe(1);
    expect(h[SCORE_HISTOGRAM_BINS - 1]).toBe(2);
  });
});

describe('bands that move with the threshold', () => {
  it('at threshold 0.9 a score of 0.6 is not flagged and reads below Overloway (issue 14)', () => {
    expect(severityOf(0.5, settings, 0.9)).toBe('Normal');
    expect(severityOf(0.6, settings, 0.9)).toBe('Potential');
    expect(severityOf(0.89, settings, 0.9)).toBe('Potential');
    expect(severityOf(0.9, settings, 0.9)).toBe('Overloway');
  });

  it('keeps the bands where they were at the calibrated threshold', () => {
    expect(severityOf(0.29, settings, CALIBRATED_THRESHOLD)).toBe('Normal');
    expect(severityOf(0.3, settings, CALIBRATED_THRESHOLD)).toBe('Potential');
    expect(severityOf(0.8, settings, CALIBRATED_THRESHOLD)).toBe('Faulty');
  });

  it('boundAtThreshold is onCalibratedScale’s inverse', () => {
    for (const t of [0.1, 0.5, 0.73])
      for (const b of [0.05, 0.3, 0.5, 0.8, 1]) expect(onCalibratedScale(boundAtThreshold(b, t), t)).toBeCloseTo(b, 12);
  });

  it('never disagree with the decision: band >= Overloway iff score >= threshold (property)', () => {
    const unit = fc.double({ min: 0, max: 1, noNaN: true });
    const threshold = fc.double({ min: SCORE_STEP, max: 1 - SCORE_STEP, noNaN: true });
    // Scores right at and next to the threshold, where rounding could split them.
    const near = threshold.chain((t) =>
      fc.tuple(fc.constant(t), fc.constantFrom(t, t - Number.EPSILON * t, t + Number.EPSILON, 0, 1)),
    );
    const check = ([t, score]: [number, number]) => {
      const flagged = score >= t; // the detector's decision
      expect(FLAGGED_BANDS.includes(severityOf(score, settings, t))).toBe(flagged);
    };
    fc.assert(fc.property(fc.tuple(threshold, unit), check), { numRuns: 5000 });
    fc.assert(fc.property(near, check), { numRuns: 5000 });
  });
});

describe('region types move with the threshold as the bands do', () => {
  it('a peak just over a high threshold is a Warning, far over it Critical', async () => {
    const { findRegions } = await import('../../../functions/engine/detection/regions.ts');
    const map = new Float32Array(100);
    for (const i of [11, 12, 21, 22]) map[i] = 0.92;
    const typeAt = (peak: number) => {
      map[11] = peak;
      return findRegions(map, 10, 10, 10, 10, 0.9, settings.regions).regions[0].box.type;
    };
    expect(typeAt(0.92)).toBe('Warning');
    expect(typeAt(0.99)).toBe('Critical');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrateThresholds, recalibrateWithDefects } from '../../../functions/engine/calibration/thresholds.ts';
import { normaliseScore } from '../../../functions/engine/calibration/score-scale.ts';

/** F1 of "anomalous when score >= t", counted plainly. */
function f1(normals: number[], defects: number[], t: number): number {
  const tp = defects.filter((d) => d >= t).length;
  const fp = normals.filter((n) => n >= t).length;
  const fn = defects.length - tp;
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** The best F1 over every possible decision: a threshold at each distinct score, and above them all. */
const bruteForceBestF1 = (normals: number[], defects: number[]): number =>
  Math.max(0, ...[...normals, ...defects].map((t) => f1(normals, defects, t)));

const base = calibrateThresholds(
  { normalImageScores: [1, 1.2, 1.1, 0.9, 1.3], normalPixelMaxima: [2, 2.1, 2.2, 1.9, 2], anomalousImageScores: [] },
  { rule: { sigmas: 1.5 }, margin: 0 },
);

describe('recalibrating the threshold with confirmed defects', () => {
  it('reaches the brute-force best F1 over the calibration normals and the defects, for random scores', () => {
    // Patch distances on a 1e-4 grid (ties included); subnormal floats are not distances a backbone gives.
    const score = fc.integer({ min: 0, max: 100_000 }).map((i) => i / 10_000);
    fc.assert(
      fc.property(
        fc.array(score, { minLength: 1, maxLength: 30 }),
        fc.array(score, { minLength: 1, maxLength: 10 }),
        (normals, defects) => {
          const t = recalibrateWithDefects(base, normals, defects);
          expect(f1(normals, defects, t.image.threshold)).toBeCloseTo(bruteForceBestF1(normals, defects), 12);
          // Every calibration score is decided as at the F1-optimal score, and the band follows: >= 0.5 iff flagged.
          for (const s of [...normals, ...defects])
            expect(normaliseScore(s, t.image) >= 0.5).toBe(s >= t.image.threshold);
        },
      ),
      { numRuns: 500, seed: 14 },
    );
  });

  it('puts the threshold halfway between the lowest caught defect and the score below it, keeping pixels and normals', () => {
    const t = recalibrateWithDefects(base, [1, 1.2, 1.1, 0.9, 1.3, 2.5], [3, 4, 2.2]);
    // Best: catch 3 and 4 only (F1 0.8) or all three (2.5 flagged too: F1 0.857): all three, so at 2.2 -> (2.2+1.3)/2.
    expect(t.image.threshold).toBeCloseTo(1.75, 12);
    expect(t.method).toBe('f1-optimal');
    expect(t.pixel).toEqual(base.pixel);
    expect(t.normalScores).toEqual([1, 1.2, 1.1, 0.9, 1.3, 2.5]);
    expect(t.calibrationImages).toBe(9);
    expect(t.histogram!.defects.reduce((a, b) => a + b, 0)).toBe(3);
  });
});

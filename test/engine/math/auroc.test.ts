import { describe, expect, it } from 'vitest';
import { auroc, f1At, f1OptimalThreshold } from '../../../functions/engine/math/auroc.ts';
import { aurocFromLabels } from '../../helpers/engine-references.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

/** O(n*m) definition: P(pos > neg) + 0.5 P(pos == neg). */
function aurocBrute(pos: ArrayLike<number>, neg: ArrayLike<number>): number {
  let wins = 0;
  for (let i = 0; i < pos.length; i++) {
    for (let j = 0; j < neg.length; j++) {
      if (pos[i] > neg[j]) wins += 1;
      else if (pos[i] === neg[j]) wins += 0.5;
    }
  }
  return wins / (pos.length * neg.length);
}

function randomInts(random: () => number, n: number, max: number, offset = 0): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * max) + offset);
}

describe('auroc', () => {
  it('equals the pairwise brute force on random integer data with many ties', () => {
    const random = seededRandom(1);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(random() * 60);
      const m = 1 + Math.floor(random() * 60);
      const shift = Math.floor(random() * 4); // positives shifted up by 0..3
      const pos = randomInts(random, n, 10, shift);
      const neg = randomInts(random, m, 10);
      expect(auroc(pos, neg)).toBeCloseTo(aurocBrute(pos, neg), 12);
    }
  });

  it('equals the brute force on continuous Float32 data', () => {
    const random = seededRandom(2);
    const pos = Float32Array.from({ length: 300 }, () => random() + 0.3);
    const neg = Float32Array.from({ length: 250 }, () => random());
    expect(auroc(pos, neg)).toBeCloseTo(aurocBrute(pos, neg), 12);
  });

  it('does not depend on the input order', () => {
    const random = seededRandom(3);
    const pos = randomInts(random, 50, 10, 1);
    const neg = randomInts(random, 40, 10);
    const expected = auroc(pos, neg);
    expect(
      auroc(
        [...pos].reverse(),
        [...neg].sort((a, b) => b - a),
      ),
    ).toBe(expected);
  });

  it('gives known values', () => {
    expect(auroc([3, 4, 5], [0, 1, 2])).toBe(1);
    expect(auroc([0, 1, 2], [3, 4, 5])).toBe(0);
    expect(auroc([7, 7, 7], [7, 7])).toBe(0.5);
    expect(auroc([1], [1])).toBe(0.5);
    // pos 2 beats 1 (1 win), ties 2 (0.5), loses to 3; pos 3 beats 1 and 2, ties 3: (1 + 0.5 + 2 + 0.5) / 6
    expect(auroc([2, 3], [1, 2, 3])).toBeCloseTo(4 / 6, 12);
  });

  it('is NaN when either side is empty', () => {
    expect(auroc([], [1, 2])).toBeNaN();
    expect(auroc([1, 2], [])).toBeNaN();
    expect(auroc([], [])).toBeNaN();
  });
});

describe('aurocFromLabels', () => {
  it('splits by boolean or numeric labels and agrees with the brute force', () => {
    const random = seededRandom(4);
    const scores = randomInts(random, 200, 10);
    const labels = scores.map((s) => (random() < 0.2 + s / 15 ? 1 : 0));
    const pos = scores.filter((_, i) => labels[i]);
    const neg = scores.filter((_, i) => !labels[i]);
    const expected = aurocBrute(pos, neg);
    expect(aurocFromLabels(scores, labels)).toBeCloseTo(expected, 12);
    expect(
      aurocFromLabels(
        scores,
        labels.map((l) => l === 1),
      ),
    ).toBeCloseTo(expected, 12);
  });

  it('is 1 for perfectly separated labels and NaN with one class only', () => {
    expect(aurocFromLabels([0.1, 0.9, 0.2, 0.8], [false, true, false, true])).toBe(1);
    expect(aurocFromLabels([0.1, 0.9, 0.2, 0.8], [true, false, true, false])).toBe(0);
    expect(aurocFromLabels([0.1, 0.2], [0, 0])).toBeNaN();
  });
});

describe('f1At', () => {
  it('gives known values', () => {
    // threshold 0.5: predicted = [0.6, 0.9]; tp = 1 (0.9), fp = 1 (0.6), fn = 1 (0.4)
    expect(f1At([0.1, 0.4, 0.6, 0.9], [0, 1, 0, 1], 0.5)).toBeCloseTo(2 / 4, 12);
    // score == threshold counts as predicted
    expect(f1At([0.1, 0.5], [0, 1], 0.5)).toBe(1);
    expect(f1At([0.1, 0.2], [0, 0], 0)).toBe(0);
  });
});

describe('f1OptimalThreshold', () => {
  it('reaches the best F1 over every candidate threshold (brute force with f1At)', () => {
    const random = seededRandom(5);
    for (let trial = 0; trial < 100; trial++) {
      const n = 2 + Math.floor(random() * 80);
      const scores = randomInts(random, n, 10);
      const labels = scores.map((s) => random() < 0.1 + s / 12);
      if (!labels.some(Boolean)) labels[0] = true;
      let bestF1 = 0;
      for (const t of new Set(scores)) bestF1 = Math.max(bestF1, f1At(scores, labels, t));
      const result = f1OptimalThreshold(scores, labels);
      expect(result.f1).toBeCloseTo(bestF1, 12);
      expect(scores).toContain(result.threshold);
      // The reported F1 is the F1 actually reached at the reported threshold.
      expect(f1At(scores, labels, result.threshold)).toBeCloseTo(result.f1, 12);
    }
  });

  it('handles continuous scores', () => {
    const random = seededRandom(6);
    const labels = Array.from({ length: 500 }, () => random() < 0.3);
    const scores = labels.map((l) => random() + (l ? 0.4 : 0));
    let bestF1 = 0;
    for (const t of scores) bestF1 = Math.max(bestF1, f1At(scores, labels, t));
    const result = f1OptimalThreshold(scores, labels);
    expect(result.f1).toBeCloseTo(bestF1, 12);
    expect(f1At(scores, labels, result.threshold)).toBeCloseTo(result.f1, 12);
  });

  it('finds the separating threshold when the classes separate', () => {
    const result = f1OptimalThreshold([0.1, 0.2, 0.3, 0.7, 0.8], [0, 0, 0, 1, 1]);
    expect(result).toEqual({ threshold: 0.7, f1: 1 });
  });

  it('does not split tied scores', () => {
    // Both 0.5 scores are predicted together; threshold 0.5 gives tp=1, fp=1, fn=0 -> 2/3; threshold 0.9 -> 0
    const result = f1OptimalThreshold([0.1, 0.5, 0.5], [0, 1, 0]);
    expect(result.threshold).toBe(0.5);
    expect(result.f1).toBeCloseTo(2 / 3, 12);
  });
});

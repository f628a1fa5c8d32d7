import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { greedyCoreset } from '../../../functions/engine/memory-bank/greedy-coreset.ts';
import {
  calibrationFolds,
  crossImageScores,
  type GroupedFeatures,
} from '../../../functions/engine/training/cross-calibration.ts';

const PATCHES = 6;
const DIMS = 8;

/** Random patch features of `views` images; the projection is the identity so the reference can pick the same coreset. */
function features(views: number, groupOfView: number[], scoredViews: number[], seed = 1): GroupedFeatures {
  const random = seededRandom(seed);
  const data = Float32Array.from({ length: views * PATCHES * DIMS }, () => random() * 2 - 1);
  return {
    features: data,
    projected: data,
    projectionDims: DIMS,
    dims: DIMS,
    patchesPerImage: PATCHES,
    groupOfView,
    scoredViews,
  };
}

/** Brute force: each patch's distance to the nearest of the given bank rows, in plain double precision. */
function nearestDistances(set: GroupedFeatures, view: number, bank: Float32Array, rows: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < PATCHES; p++) {
    const q = (view * PATCHES + p) * DIMS;
    let best = Infinity;
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let d = 0; d < DIMS; d++) s += (set.features[q + d] - bank[r * DIMS + d]) ** 2;
      best = Math.min(best, s);
    }
    out.push(Math.sqrt(best));
  }
  return out;
}

/** The rows of every view outside the excluded groups, in view order. */
function rowsOutside(set: GroupedFeatures, excluded: Set<number>): { data: Float32Array; rows: number } {
  const views = set.groupOfView.flatMap((g, v) => (excluded.has(g) ? [] : [v]));
  const data = new Float32Array(views.length * PATCHES * DIMS);
  views.forEach((v, i) =>
    data.set(set.features.subarray(v * PATCHES * DIMS, (v + 1) * PATCHES * DIMS), i * PATCHES * DIMS),
  );
  return { data, rows: views.length * PATCHES };
}

describe('calibration folds', () => {
  it('leaves one image out up to the fold limit, then splits a seeded shuffle into that many folds', () => {
    expect(calibrationFolds(4, 0, 10)).toEqual([[0], [1], [2], [3]]);
    const folds = calibrationFolds(23, 5, 10);
    expect(folds).toHaveLength(10);
    expect(
      folds
        .flat()
        .sort((a, b) => a - b)
        .join(),
    ).toBe(Array.from({ length: 23 }, (_, i) => i).join());
    for (const f of folds) expect([2, 3]).toContain(f.length);
    expect(calibrationFolds(23, 5, 10)).toEqual(folds);
    expect(calibrationFolds(23, 6, 10)).not.toEqual(folds);
  });
});

describe('cross-image calibration scores', () => {
  it('leave-one-out: each image against all patches of the others (full bank) matches a brute-force search', async () => {
    const set = features(5, [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]);
    const scored = await crossImageScores(set, { coresetRatio: 1, neighbours: 2, seed: 0 });
    expect(scored.map((s) => s.view)).toEqual([0, 1, 2, 3, 4]);
    for (const { view, scores } of scored) {
      const bank = rowsOutside(set, new Set([view]));
      const expected = nearestDistances(set, view, bank.data, bank.rows);
      for (let p = 0; p < PATCHES; p++) expect(scores.distances[p]).toBeCloseTo(expected[p], 4);
    }
  });

  it('leave-one-out with a coreset: against the coreset of the other images, chosen as the model chooses its own', async () => {
    const set = features(4, [0, 1, 2, 3], [0, 1, 2, 3], 7);
    const scored = await crossImageScores(set, { coresetRatio: 0.5, neighbours: 2, seed: 3 });
    for (const { view, scores } of scored) {
      const others = rowsOutside(set, new Set([view]));
      const size = Math.round(others.rows * 0.5);
      const picked = await greedyCoreset(others.data, others.rows, DIMS, { size, seed: 3 });
      const bank = new Float32Array(size * DIMS);
      picked.forEach((row, i) => bank.set(others.data.subarray(row * DIMS, (row + 1) * DIMS), i * DIMS));
      const expected = nearestDistances(set, view, bank, size);
      for (let p = 0; p < PATCHES; p++) expect(scores.distances[p]).toBeCloseTo(expected[p], 4);
    }
  });

  it('k-fold: with more images than folds, each is scored once, against a bank without any image of its fold', async () => {
    const n = 7;
    const set = features(n, [0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5, 6], 11);
    const folds = calibrationFolds(n, 2, 3);
    const scored = await crossImageScores(set, { coresetRatio: 1, neighbours: 1, seed: 2, maxFolds: 3 });
    expect(scored.map((s) => s.view)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const { view, scores } of scored) {
      const fold = folds.find((f) => f.includes(view))!;
      const bank = rowsOutside(set, new Set(fold));
      const expected = nearestDistances(set, view, bank.data, bank.rows);
      for (let p = 0; p < PATCHES; p++) expect(scores.distances[p]).toBeCloseTo(expected[p], 4);
    }
  });

  it('leaves an image out together with its augmented views, and scores only the views asked for', async () => {
    // Views 0..2 are images; 3 and 4 are augmented copies of image 0, 5 of image 2.
    const groupOfView = [0, 1, 2, 0, 0, 2];
    const set = features(6, groupOfView, [0, 1, 2], 5);
    // A copy of image 0 among its own views would make image 0 look perfectly normal if it stayed in the bank.
    set.features.copyWithin(3 * PATCHES * DIMS, 0, PATCHES * DIMS);
    const scored = await crossImageScores(set, { coresetRatio: 1, neighbours: 1, seed: 0 });
    expect(scored.map((s) => s.view)).toEqual([0, 1, 2]);
    const first = scored[0].scores.distances;
    expect(Math.min(...first)).toBeGreaterThan(0.1);
    const bank = rowsOutside(set, new Set([0]));
    const expected = nearestDistances(set, 0, bank.data, bank.rows);
    for (let p = 0; p < PATCHES; p++) expect(first[p]).toBeCloseTo(expected[p], 4);
  });

  it('refuses a single group: there is nothing to leave it out against', async () => {
    await expect(
      crossImageScores(features(2, [0, 0], [0]), { coresetRatio: 1, neighbours: 1, seed: 0 }),
    ).rejects.toThrow(/two groups/);
  });
});

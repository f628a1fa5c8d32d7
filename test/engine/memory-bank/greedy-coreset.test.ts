import { describe, expect, it } from 'vitest';
import { greedyCoreset } from '../../../functions/engine/memory-bank/greedy-coreset.ts';
import { greedyCoresetReference } from '../../helpers/engine-references.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

/** Gaussian-ish clusters: `clusters` centres, points scattered around them. */
function clusteredPoints(seed: number, rows: number, dims: number, clusters: number): Float32Array {
  const random = seededRandom(seed);
  const normal = () => {
    let s = 0;
    for (let k = 0; k < 6; k++) s += random();
    return s - 3;
  };
  const centres = Float32Array.from({ length: clusters * dims }, () => (random() * 2 - 1) * 5);
  const out = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    const c = Math.floor(random() * clusters);
    const spread = 0.3 + (c % 3) * 0.3;
    for (let d = 0; d < dims; d++) out[r * dims + d] = centres[c * dims + d] + normal() * spread;
  }
  return out;
}

/** max over all points of the distance to the nearest selected point (float64). */
function coveringRadius(points: Float32Array, rows: number, dims: number, selected: ArrayLike<number>): number {
  const min = new Float64Array(rows).fill(Infinity);
  for (let k = 0; k < selected.length; k++) {
    const c = selected[k] * dims;
    for (let p = 0; p < rows; p++) {
      let s = 0;
      const o = p * dims;
      for (let d = 0; d < dims; d++) {
        const diff = points[o + d] - points[c + d];
        s += diff * diff;
      }
      if (s < min[p]) min[p] = s;
    }
  }
  let far = 0;
  for (let p = 0; p < rows; p++) if (min[p] > far) far = min[p];
  return Math.sqrt(far);
}

function expectNoDuplicates(selected: Int32Array, rows: number): void {
  expect(new Set(selected).size).toBe(selected.length);
  for (const i of selected) {
    expect(i).toBeGreaterThanOrEqual(0);
    expect(i).toBeLessThan(rows);
  }
}

describe('greedyCoreset', () => {
  it('continues an existing bank: starts from the row farthest from it and matches the reference (initialDistances)', async () => {
    const dims = 16;
    const bankRows = 300;
    const rows = 2000;
    const all = clusteredPoints(7, bankRows + rows, dims, 12);
    const bank = all.subarray(0, bankRows * dims);
    const points = all.slice(bankRows * dims);
    // The first 50 new rows repeat bank rows: already covered, they must come last (distance 0).
    points.set(bank.subarray(0, 50 * dims), 0);
    const initial = new Float64Array(rows);
    for (let p = 0; p < rows; p++) {
      let best = Infinity;
      for (let b = 0; b < bankRows; b++) {
        let s = 0;
        for (let d = 0; d < dims; d++) s += (points[p * dims + d] - bank[b * dims + d]) ** 2;
        best = Math.min(best, s);
      }
      initial[p] = Math.sqrt(best);
    }
    const options = { size: 150, seed: 3, initialDistances: initial };
    const fast = await greedyCoreset(points, rows, dims, options);
    expect(Array.from(fast)).toEqual(Array.from(greedyCoresetReference(points, rows, dims, options)));
    expect(fast[0]).toBe(initial.indexOf(Math.max(...initial)));
    expect(Array.from(fast).filter((r) => r < 50)).toEqual([]);
  });

  it('selects the same rows as the exact farthest-first reference (5000 x 32, size 300)', async () => {
    const rows = 5000;
    const dims = 32;
    const size = 300;
    const points = clusteredPoints(51, rows, dims, 12);
    const progress: [number, number][] = [];
    const fast = await greedyCoreset(points, rows, dims, {
      size,
      seed: 7,
      candidates: 256,
      onProgress: (a, b) => progress.push([a, b]),
    });
    const reference = greedyCoresetReference(points, rows, dims, { size, seed: 7 });

    expect(fast.length).toBe(size);
    expect(reference.length).toBe(size);
    expectNoDuplicates(fast, rows);
    // Same random start.
    expect(fast[0]).toBe(reference[0]);
    const fastSet = new Set(fast);
    const missing = Array.from(reference).filter((i) => !fastSet.has(i));
    expect(missing).toEqual([]);
    expect(
      Math.abs(coveringRadius(points, rows, dims, fast) - coveringRadius(points, rows, dims, reference)),
    ).toBeLessThanOrEqual(1e-4);

    // Progress: non-decreasing, reported against size, ends at (size, size).
    expect(progress.length).toBeGreaterThan(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThan(progress[i - 1][0]);
    for (const [, total] of progress) expect(total).toBe(size);
    expect(progress[progress.length - 1]).toEqual([size, size]);
  });

  it('matches the reference with the default candidate count and with very few candidates', async () => {
    const rows = 1500;
    const dims = 16;
    const points = clusteredPoints(52, rows, dims, 6);
    const reference = greedyCoresetReference(points, rows, dims, { size: 120, seed: 3 });
    for (const candidates of [undefined, 1, 8]) {
      const fast = await greedyCoreset(points, rows, dims, { size: 120, seed: 3, candidates });
      expect(fast.length).toBe(120);
      expectNoDuplicates(fast, rows);
      expect(new Set(fast)).toEqual(new Set(reference));
    }
  });

  it('is deterministic for a seed and the start row depends on the seed', async () => {
    const rows = 800;
    const dims = 8;
    const points = clusteredPoints(53, rows, dims, 4);
    const a = await greedyCoreset(points, rows, dims, { size: 40, seed: 1 });
    const b = await greedyCoreset(points, rows, dims, { size: 40, seed: 1 });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a[0]).toBe(Math.floor(seededRandom(1)() * rows));
    const c = await greedyCoreset(points, rows, dims, { size: 40, seed: 2 });
    expect(c[0]).toBe(Math.floor(seededRandom(2)() * rows));
  });

  it('returns every row when size >= rows', async () => {
    const rows = 60;
    const dims = 5;
    const points = clusteredPoints(54, rows, dims, 3);
    for (const size of [rows, rows + 25]) {
      let last: [number, number] | undefined;
      const fast = await greedyCoreset(points, rows, dims, { size, seed: 9, onProgress: (a, b) => (last = [a, b]) });
      expect(fast.length).toBe(rows);
      expect(Array.from(fast).sort((x, y) => x - y)).toEqual(Array.from({ length: rows }, (_, i) => i));
      expect(last).toEqual([rows, rows]);
      const reference = greedyCoresetReference(points, rows, dims, { size, seed: 9 });
      expect(reference.length).toBe(rows);
    }
  });

  it('stops early when the remaining rows coincide with selected ones', async () => {
    // 4 distinct points, each repeated 5 times: only 4 rows can be selected.
    const dims = 3;
    const distinct = [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    const points = new Float32Array(20 * dims);
    for (let r = 0; r < 20; r++) points.set(distinct.slice((r % 4) * dims, ((r % 4) + 1) * dims), r * dims);
    const fast = await greedyCoreset(points, 20, dims, { size: 10, seed: 4 });
    const reference = greedyCoresetReference(points, 20, dims, { size: 10, seed: 4 });
    expect(reference.length).toBe(4);
    expect(fast.length).toBe(4);
    expectNoDuplicates(fast, 20);
    expect(new Set(Array.from(fast, (i) => i % 4))).toEqual(new Set([0, 1, 2, 3]));
    expect(coveringRadius(points, 20, dims, fast)).toBe(0);
  });

  it('handles a size of 1 and a single row', async () => {
    const points = clusteredPoints(55, 30, 4, 2);
    const one = await greedyCoreset(points, 30, 4, { size: 1, seed: 5 });
    expect(Array.from(one)).toEqual([Math.floor(seededRandom(5)() * 30)]);
    const single = await greedyCoreset(points.slice(0, 4), 1, 4, { size: 3 });
    expect(Array.from(single)).toEqual([0]);
  });
});

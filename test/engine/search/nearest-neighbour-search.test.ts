import { randomMatrix, squaredDistance } from '../../helpers/matrix.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MinimumDistance, NearestNeighbourSearch } from '../../../functions/engine/search/nearest-neighbour-search.ts';
import { bruteForceNearest } from '../../helpers/engine-references.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

describe('bruteForceNearest', () => {
  it('gives known answers on a tiny example', () => {
    const bank = Float32Array.from([0, 0, 3, 4, 10, 0]);
    const queries = Float32Array.from([3, 4, 1, 0, 9, 1]);
    const { distances, indices } = bruteForceNearest(queries, bank, 2);
    expect(Array.from(indices)).toEqual([1, 0, 2]);
    expect(distances[0]).toBe(0);
    expect(distances[1]).toBeCloseTo(1, 6);
    expect(distances[2]).toBeCloseTo(Math.SQRT2, 6);
  });
});

describe('NearestNeighbourSearch', () => {
  const dims = 64;
  const rows = 2000;
  const random = seededRandom(41);
  const bank = randomMatrix(random, rows, dims);
  let search: NearestNeighbourSearch;

  beforeAll(async () => {
    search = await NearestNeighbourSearch.create(bank, rows, dims, { providers: ['cpu'] });
  });
  afterAll(async () => {
    await search?.release();
  });

  it('equals the brute force on random data (300 queries, 2000 x 64)', async () => {
    const queries = randomMatrix(random, 300, dims);
    const got = await search.search(queries);
    const expected = bruteForceNearest(queries, bank, dims);
    expect(got.distances.length).toBe(300);
    expect(got.indices.length).toBe(300);
    let mismatched = 0;
    for (let q = 0; q < 300; q++) {
      const e = expected.distances[q];
      expect(Math.abs(got.distances[q] - e)).toBeLessThanOrEqual(1e-3 * e);
      if (got.indices[q] !== expected.indices[q]) {
        mismatched++;
        // Only acceptable when both rows are (within rounding) equally near.
        const dGot = Math.sqrt(squaredDistance(queries, q, bank, got.indices[q], dims));
        expect(Math.abs(dGot - e)).toBeLessThanOrEqual(1e-5 * Math.max(1, e));
      }
    }
    expect(mismatched).toBeLessThan(3);
  });

  it('gives distance ~0 (never negative, never NaN) for a query equal to a bank row', async () => {
    const picks = [0, 17, 999, 1999];
    const queries = new Float32Array(picks.length * dims);
    picks.forEach((p, i) => queries.set(bank.subarray(p * dims, (p + 1) * dims), i * dims));
    const got = await search.search(queries);
    picks.forEach((p, i) => {
      expect(Number.isNaN(got.distances[i])).toBe(false);
      expect(got.distances[i]).toBeGreaterThanOrEqual(0);
      expect(got.distances[i]).toBeLessThan(1e-2);
      expect(got.indices[i]).toBe(p);
    });
  });

  it('handles a single query', async () => {
    const query = randomMatrix(random, 1, dims);
    const got = await search.search(query);
    const expected = bruteForceNearest(query, bank, dims);
    expect(got.indices[0]).toBe(expected.indices[0]);
    expect(got.distances[0]).toBeCloseTo(expected.distances[0], 3);
  });

  it('finds the right row among well-separated, offset points', async () => {
    // Bank rows far from the origin: |q|^2 + |b|^2 - 2 q.b loses precision when points are large; rows are 1 apart.
    const d = 8;
    const n = 50;
    const far = new Float32Array(n * d);
    for (let r = 0; r < n; r++) for (let k = 0; k < d; k++) far[r * d + k] = 100 + (k === 0 ? r : 0);
    const s = await NearestNeighbourSearch.create(far, n, d, { providers: ['cpu'] });
    try {
      const queries = new Float32Array(n * d);
      for (let r = 0; r < n; r++) for (let k = 0; k < d; k++) queries[r * d + k] = 100 + (k === 0 ? r + 0.2 : 0);
      const got = await s.search(queries);
      for (let r = 0; r < n; r++) {
        expect(got.indices[r]).toBe(r);
        // float32 cancellation makes the distance itself coarse here (|q|^2 ~ 8e4); it must still be near 0.2.
        expect(got.distances[r]).toBeGreaterThanOrEqual(0);
        expect(got.distances[r]).toBeLessThan(0.5);
      }
    } finally {
      await s.release();
    }
  });
});

describe('MinimumDistance', () => {
  it('equals the brute-force distances for banks that change between calls', async () => {
    const dims = 32;
    const random = seededRandom(42);
    const minimum = await MinimumDistance.create(dims, { providers: ['cpu'] });
    try {
      for (const rows of [1, 7, 500]) {
        const bank = randomMatrix(random, rows, dims);
        const queries = randomMatrix(random, 200, dims);
        const got = await minimum.run(queries, bank);
        const expected = bruteForceNearest(queries, bank, dims).distances;
        expect(got.length).toBe(200);
        for (let q = 0; q < 200; q++) expect(Math.abs(got[q] - expected[q])).toBeLessThanOrEqual(1e-3 * expected[q]);
      }
      // A query that is a bank row: zero, not NaN.
      const bank = randomMatrix(random, 10, dims);
      const zero = await minimum.run(bank.slice(3 * dims, 4 * dims), bank);
      expect(Number.isNaN(zero[0])).toBe(false);
      expect(zero[0]).toBeGreaterThanOrEqual(0);
      expect(zero[0]).toBeLessThan(1e-2);
    } finally {
      await minimum.release();
    }
  });
});

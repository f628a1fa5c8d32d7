import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { greedyCoreset } from '../../../functions/engine/memory-bank/greedy-coreset.ts';
import { reweightedImageScore } from '../../../functions/engine/scoring/image-score.ts';
import { NearestNeighbourSearch } from '../../../functions/engine/search/nearest-neighbour-search.ts';
import { TwoStageSearch, type TwoStageTrace } from '../../../functions/engine/search/two-stage-search.ts';

/** Clustered points (patch features are): `clusters` centres, each point a centre plus noise. */
function clustered(random: () => number, rows: number, dims: number, centres: Float32Array, noise: number) {
  const k = centres.length / dims;
  const out = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    const c = Math.floor(random() * k);
    for (let d = 0; d < dims; d++) out[r * dims + d] = centres[c * dims + d] + (random() * 2 - 1) * noise;
  }
  return out;
}

describe('TwoStageSearch against the exact search (the oracle)', () => {
  const dims = 32;
  const patches = 196;
  const random = seededRandom(7);
  const centres = Float32Array.from({ length: 40 * dims }, () => random() * 4);
  let bank: Float32Array;
  let rows: number;
  let exact: NearestNeighbourSearch;
  let fast: TwoStageSearch;

  beforeAll(async () => {
    // As training builds a bank: a greedy coreset of many points, stored in selection order.
    const pool = clustered(random, 12_000, dims, centres, 0.6);
    const selected = await greedyCoreset(pool, 12_000, dims, { size: 1_500, seed: 0 });
    rows = selected.length;
    bank = new Float32Array(rows * dims);
    selected.forEach((r, i) => bank.set(pool.subarray(r * dims, (r + 1) * dims), i * dims));
    exact = await NearestNeighbourSearch.create(bank, rows, dims, { providers: ['cpu'] });
    fast = await TwoStageSearch.create(bank, rows, dims, {}, { providers: ['cpu'] });
  });
  afterAll(async () => {
    await Promise.all([exact?.release(), fast?.release()]);
  });

  it('gives the exact image score, and exact distances for the patches it re-ranks, on 30 images', async () => {
    let sameRow = 0;
    let reranked = 0;
    for (let image = 0; image < 30; image++) {
      // Normal images, and defective ones: a few patches far from every cluster.
      const queries = clustered(random, patches, dims, centres, 0.7);
      if (image % 2 === 1)
        for (let p = 0; p < 1 + (image % 5); p++)
          for (let d = 0; d < dims; d++) queries[p * 17 * dims + d] += 2 + random() * 3;
      const want = await exact.search(queries);
      const trace: TwoStageTrace = { reranked: 0, rounds: 0 };
      const got = await fast.search(queries, trace);
      reranked += trace.reranked;
      expect(trace.reranked).toBeLessThan(patches);

      const score = (r: { distances: Float32Array; indices: Int32Array }) =>
        reweightedImageScore(r.distances, r.indices, queries, bank, rows, dims, 9);
      expect(score(got)).toEqual(score(want));
      for (let p = 0; p < patches; p++) {
        // Never below the exact distance: an upper bound where not re-ranked (float rounding aside).
        expect(got.distances[p]).toBeGreaterThanOrEqual(want.distances[p] - 1e-4);
        if (got.indices[p] === want.indices[p]) {
          sameRow++;
          expect(got.distances[p]).toBeCloseTo(want.distances[p], 4);
        }
      }
    }
    const recall = sameRow / (30 * patches);
    console.info(`two-stage recall@1 ${recall.toFixed(3)}, re-ranked ${(reranked / (30 * patches)).toFixed(3)}`);
    expect(recall).toBeGreaterThan(0.35); // reported; the image score is exact whatever it is
  });

  it('re-ranks every patch when the bounds cannot rule any out (a single-row coarse stage)', async () => {
    const one = await TwoStageSearch.create(
      bank,
      rows,
      dims,
      { coarseShare: 1 / rows, rerankShare: 1 },
      {
        providers: ['cpu'],
      },
    );
    try {
      const queries = clustered(random, patches, dims, centres, 0.7);
      const want = await exact.search(queries);
      const got = await one.search(queries);
      expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
    } finally {
      await one.release();
    }
  });

  it('refuses shares outside (0, 1]', async () => {
    await expect(TwoStageSearch.create(bank, rows, dims, { coarseShare: 0 })).rejects.toThrow(/coarseShare/);
    await expect(TwoStageSearch.create(bank, rows, dims, { rerankShare: 1.5 })).rejects.toThrow(/rerankShare/);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { greedyCoreset } from '../../../functions/engine/memory-bank/greedy-coreset.ts';
import { reweightedImageScore } from '../../../functions/engine/scoring/image-score.ts';
import { PatchScorer, searchMethodOf } from '../../../functions/engine/scoring/patch-scorer.ts';
import type { CellProbeTrace } from '../../../functions/engine/search/cell-probe-search.ts';
import { NearestNeighbourSearch } from '../../../functions/engine/search/nearest-neighbour-search.ts';

describe('PatchScorer', () => {
  const dims = 24;
  const patches = 100;
  const neighbours = 9;
  const random = seededRandom(11);
  const centres = Float32Array.from({ length: 30 * dims }, () => random() * 4);
  const clustered = (rows: number, noise: number) => {
    const out = new Float32Array(rows * dims);
    for (let r = 0; r < rows; r++) {
      const c = Math.floor(random() * 30);
      for (let d = 0; d < dims; d++) out[r * dims + d] = centres[c * dims + d] + (random() * 2 - 1) * noise;
    }
    return out;
  };
  let bank: { data: Float32Array; rows: number; dims: number };
  let oracle: NearestNeighbourSearch;

  beforeAll(async () => {
    const pool = clustered(6_000, 0.6);
    const selected = await greedyCoreset(pool, 6_000, dims, { size: 800, seed: 0 });
    const data = new Float32Array(selected.length * dims);
    selected.forEach((r, i) => data.set(pool.subarray(r * dims, (r + 1) * dims), i * dims));
    bank = { data, rows: selected.length, dims };
    oracle = await NearestNeighbourSearch.create(data, bank.rows, dims, { providers: ['cpu'] });
  });
  afterAll(async () => {
    await oracle?.release();
  });
  afterEach(() => {
    delete process.env.FAULTLINE_SEARCH;
  });

  /** anomalib's score from the exact search, its support rows found by a scan in JavaScript. */
  const reference = async (features: Float32Array) => {
    const exact = await oracle.search(features);
    return reweightedImageScore(exact.distances, exact.indices, features, bank.data, bank.rows, dims, neighbours);
  };

  it('scores as the exact search and the scanned support rows do (exact search)', async () => {
    const scorer = await PatchScorer.create(bank, patches, neighbours, {
      providers: ['cpu'],
      search: { method: 'exact' },
    });
    try {
      for (let image = 0; image < 8; image++) {
        const features = clustered(patches, 0.8);
        const [got] = await scorer.score(features, 1);
        const want = await reference(features);
        expect(got.image.patch).toBe(want.patch);
        expect(got.image.score).toBeCloseTo(want.score, 5);
      }
    } finally {
      await scorer.release();
    }
  });

  it('scores as exact with the cell-probe search (the default) when the farthest patch is re-ranked', async () => {
    expect(searchMethodOf()).toBe('cell-probe');
    const scorer = await PatchScorer.create(bank, patches, neighbours, { providers: ['cpu'] });
    try {
      let compared = 0;
      for (let image = 0; image < 8; image++) {
        const features = clustered(patches, 0.8);
        for (let d = 0; d < dims; d++) features[image * 7 * dims + d] += 3; // one far patch
        const trace: CellProbeTrace = { reranked: [], certified: false };
        const [got] = await scorer.score(features, 1, undefined, trace);
        const want = await reference(features);
        if (!trace.reranked.includes(want.patch)) continue;
        compared++;
        expect(got.image.patch).toBe(want.patch);
        expect(got.image.score).toBeCloseTo(want.score, 5);
      }
      expect(compared).toBe(8);
    } finally {
      await scorer.release();
    }
  });

  it('takes the method from FAULTLINE_SEARCH and refuses an unknown one', () => {
    process.env.FAULTLINE_SEARCH = 'exact';
    expect(searchMethodOf()).toBe('exact');
    expect(searchMethodOf({ method: 'cell-probe' })).toBe('cell-probe');
    process.env.FAULTLINE_SEARCH = 'faiss';
    expect(() => searchMethodOf()).toThrow(/unknown search "faiss"/);
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { greedyCoreset } from '../../../functions/engine/memory-bank/greedy-coreset.ts';
import { reweightedImageScore } from '../../../functions/engine/scoring/image-score.ts';
import {
  buildCellTable,
  CellProbeSearch,
  type CellProbeTrace,
  type CellTable,
} from '../../../functions/engine/search/cell-probe-search.ts';
import {
  NearestBankRows,
  NearestNeighbourSearch,
  type NearestNeighbours,
} from '../../../functions/engine/search/nearest-neighbour-search.ts';
import { parseSearchMethod } from '../../../functions/engine/search/search-method.ts';

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

describe('CellProbeSearch against the exact search (the oracle)', () => {
  const dims = 32;
  const patches = 196;
  const random = seededRandom(7);
  const centres = Float32Array.from({ length: 40 * dims }, () => random() * 4);
  let bank: Float32Array;
  let rows: number;
  let exact: NearestNeighbourSearch;
  let fast: CellProbeSearch;

  /** Normal images, and defective ones: a few patches far from every cluster. */
  const image = (index: number) => {
    const queries = clustered(random, patches, dims, centres, 0.7);
    if (index % 2 === 1)
      for (let p = 0; p < 1 + (index % 5); p++)
        for (let d = 0; d < dims; d++) queries[p * 17 * dims + d] += 2 + random() * 3;
    return queries;
  };

  beforeAll(async () => {
    // As training builds a bank: a greedy coreset of many points, stored in selection order.
    const pool = clustered(random, 12_000, dims, centres, 0.6);
    const selected = await greedyCoreset(pool, 12_000, dims, { size: 1_500, seed: 0 });
    rows = selected.length;
    bank = new Float32Array(rows * dims);
    selected.forEach((r, i) => bank.set(pool.subarray(r * dims, (r + 1) * dims), i * dims));
    exact = await NearestNeighbourSearch.create(bank, rows, dims, { providers: ['cpu'] });
    fast = await CellProbeSearch.create(bank, rows, dims, {}, { providers: ['cpu'] });
  });
  afterAll(async () => {
    await Promise.all([exact?.release(), fast?.release()]);
  });

  it('re-ranks exactly, bounds the rest from above and gives the exact image score when the maximum is re-ranked', async () => {
    let sameRow = 0;
    let maxReranked = 0;
    let certified = 0;
    const images = 30;
    for (let index = 0; index < images; index++) {
      const queries = image(index);
      const want = await exact.search(queries);
      const trace: CellProbeTrace = { reranked: [], certified: false };
      const got = await fast.search(queries, trace);
      expect(trace.reranked).toHaveLength(fast.rerankCount(patches));
      expect(new Set(trace.reranked).size).toBe(trace.reranked.length);

      for (const p of trace.reranked) {
        expect(got.indices[p]).toBe(want.indices[p]);
        expect(got.distances[p]).toBeCloseTo(want.distances[p], 5);
      }
      for (let p = 0; p < patches; p++) if (got.indices[p] === want.indices[p]) sameRow++;
      const score = (r: NearestNeighbours) =>
        reweightedImageScore(r.distances, r.indices, queries, bank, rows, dims, 9, { maxPatch: r.maxPatch });
      const wanted = score(want);
      // The certificate promises the exact maximum; the exact maximum among the re-ranked patches gives it too.
      if (trace.certified) expect(trace.reranked).toContain(wanted.patch);
      if (trace.reranked.includes(wanted.patch)) {
        maxReranked++;
        expect(score(got)).toEqual(wanted);
        // Then the cap is the exact maximum: no distance is below the exact one (float rounding aside) nor above the
        // image's maximum, so the map's peak is the scored patch.
        for (let p = 0; p < patches; p++) {
          expect(got.distances[p]).toBeGreaterThanOrEqual(want.distances[p] - 1e-4);
          expect(got.distances[p]).toBeLessThanOrEqual(got.distances[got.maxPatch!]);
        }
      }
      if (trace.certified) certified++;
    }
    const recall = sameRow / (images * patches);
    console.info(
      `cell-probe recall@1 ${recall.toFixed(3)}, maximum re-ranked in ${maxReranked}/${images}, certified ${certified}`,
    );
    expect(maxReranked).toBeGreaterThanOrEqual(24); // 26 of 30 with this seed
    expect(recall).toBeGreaterThan(0.3); // reported; the re-ranked patches are exact whatever it is
  });

  it('equals the exact search when every patch is re-ranked', async () => {
    const all = await CellProbeSearch.create(bank, rows, dims, { rerankShare: 1 }, { providers: ['cpu'] });
    try {
      const queries = image(1);
      const want = await exact.search(queries);
      const trace: CellProbeTrace = { reranked: [], certified: false };
      const got = await all.search(queries, trace);
      expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
      expect(trace.certified).toBe(true);
    } finally {
      await all.release();
    }
  });

  it('re-ranks a share of the patches, at least the minimum, at most all', () => {
    expect(fast.rerankCount(784)).toBe(32); // 4 %
    expect(fast.rerankCount(196)).toBe(8); // 4 % is 7.84: the minimum
    expect(fast.rerankCount(100)).toBe(8);
    expect(fast.rerankCount(5)).toBe(5);
  });

  it('works on a bank smaller than a cell', async () => {
    const tiny = await CellProbeSearch.create(bank.subarray(0, 3 * dims), 3, dims, {}, { providers: ['cpu'] });
    try {
      const got = await tiny.search(bank.subarray(0, 3 * dims));
      expect(Array.from(got.indices)).toEqual([0, 1, 2]);
      for (const d of got.distances) expect(d).toBeLessThan(0.01); // zero, but for the exact formula's rounding
    } finally {
      await tiny.release();
    }
  });

  describe('a stored cell table', () => {
    const tableBuilds = (spy: { mock: { calls: unknown[][] } }, width: number) =>
      spy.mock.calls.filter((call) => call[3] === width).length;

    it('is used when it fits the bank and the options: nothing is built, and the search is the same', async () => {
      const table = await buildCellTable(bank, rows, dims, {}, { providers: ['cpu'] });
      expect(table.centres).toBe(Math.round(rows / 16));
      expect(table.width).toBe(8);
      const create = vi.spyOn(NearestBankRows, 'create');
      try {
        const stored = await CellProbeSearch.create(bank, rows, dims, {}, { providers: ['cpu'] }, table);
        expect(tableBuilds(create, 8)).toBe(0);
        try {
          for (let i = 0; i < 4; i++) {
            const queries = image(i);
            const [a, b] = await Promise.all([stored.search(queries), fast.search(queries)]);
            expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
            expect(Array.from(a.distances)).toEqual(Array.from(b.distances));
          }
        } finally {
          await stored.release();
        }
      } finally {
        create.mockRestore();
      }
    });

    it.each([
      ['other options (a wider cell)', { cellWidth: 12 }, 12, (t: CellTable) => t],
      ['other options (more centres)', { coarseShare: 1 / 8 }, 8, (t: CellTable) => t],
      ['a row outside the bank', {}, 8, (t: CellTable) => ({ ...t, rows: t.rows.map((r, i) => (i === 5 ? rows : r)) })],
      ['a short table', {}, 8, (t: CellTable) => ({ ...t, rows: t.rows.subarray(1) })],
      // Another bank's table of the same shape: its rows are in range, but the centres are not in their own cells.
      ['a table of another bank', {}, 8, (t: CellTable) => ({ ...t, rows: t.rows.map((r) => (r + 1) % rows) })],
    ])('is not used but rebuilt for %s', async (_, options, width, damage) => {
      const table = damage(await buildCellTable(bank, rows, dims, {}, { providers: ['cpu'] }));
      const create = vi.spyOn(NearestBankRows, 'create');
      try {
        const search = await CellProbeSearch.create(bank, rows, dims, options, { providers: ['cpu'] }, table);
        expect(tableBuilds(create, width)).toBe(1);
        await search.release();
      } finally {
        create.mockRestore();
      }
    });
  });

  it('refuses options out of range', async () => {
    await expect(CellProbeSearch.create(bank, rows, dims, { coarseShare: 0 })).rejects.toThrow(/coarseShare/);
    await expect(CellProbeSearch.create(bank, rows, dims, { rerankShare: 1.5 })).rejects.toThrow(/rerankShare/);
    await expect(CellProbeSearch.create(bank, rows, dims, { probes: 0 })).rejects.toThrow(/probes/);
    await expect(CellProbeSearch.create(bank, rows, dims, { cellWidth: 2.5 })).rejects.toThrow(/cellWidth/);
  });
});

describe('parseSearchMethod', () => {
  it('knows exact and cell-probe, reads the former two-stage as cell-probe and refuses others', () => {
    expect(parseSearchMethod('exact')).toBe('exact');
    expect(parseSearchMethod('cell-probe')).toBe('cell-probe');
    expect(parseSearchMethod('two-stage')).toBe('cell-probe');
    expect(() => parseSearchMethod('hnsw')).toThrow(/unknown search "hnsw" \(use exact, cell-probe\)/);
  });
});

import type { SessionOptions } from '../onnx/create-session.ts';
import { NearestNeighbourSearch, type NearestNeighbours } from './nearest-neighbour-search.ts';

/** How the patch search runs: 'exact' (every patch against the whole bank) or 'two-stage' (TwoStageSearch). */
export type SearchMethod = 'exact' | 'two-stage';

export const SEARCH_METHODS: readonly SearchMethod[] = ['exact', 'two-stage'];

export interface TwoStageOptions {
  /** Share of the bank's rows in the coarse stage (its first rows: the bank is in greedy-coreset order). */
  coarseShare: number;
  /** Share of an image's patches (those with the largest bounds) searched exactly first, to find the maximum. */
  rerankShare: number;
}

/** Chosen with `npm run bench:search` on the three shared sets (README, "Search"). */
export const DEFAULT_TWO_STAGE: TwoStageOptions = { coarseShare: 1 / 16, rerankShare: 0.02 };

/**
 * Rows of a cell checked in the coarse stage, nearest to the cell's coarse row first: cells are uneven (a greedy
 * coreset's first rows are outliers with small cells), and any subset still gives an upper bound.
 */
export const CELL_ROWS_CHECKED = 8;

/** What one search did: how many patches the exact stage saw (for the benchmark and tests). */
export interface TwoStageTrace {
  reranked: number;
  rounds: number;
}

/** Squared distance between row a of x and row b of y. */
function squared(x: Float32Array, a: number, y: Float32Array, b: number, dims: number): number {
  let s = 0;
  for (let i = a * dims, j = b * dims, end = i + dims; i < end; i++, j++) {
    const d = x[i] - y[j];
    s += d * d;
  }
  return s;
}

/**
 * Nearest-neighbour search in two stages, whose image score is the exact search's.
 * 1. Coarse: every patch against the bank's first rows (a greedy coreset of the bank itself, since the bank is stored
 *    in selection order), then against the nearest bank rows of that row's cell (the rows whose nearest coarse row it is):
 *    an exact distance to some bank row, so an upper bound of the patch's nearest distance, and often equal to it.
 * 2. Exact: the patches with the largest bounds against the whole bank; then every patch whose bound is still at or
 *    above the largest exact distance found (only those can be the image's maximum). After it, the largest distance,
 *    its patch and its nearest row (all the image score uses) are the exact search's, as is every re-ranked
 *    patch's distance; the others keep their bound, used only for the low part of the anomaly map.
 */
export class TwoStageSearch {
  private constructor(
    private readonly coarse: NearestNeighbourSearch,
    private readonly exact: NearestNeighbourSearch,
    private readonly bank: Float32Array,
    /** Cell of coarse row c: cellRows[cellStart[c] .. cellStart[c + 1]). */
    private readonly cellStart: Int32Array,
    private readonly cellRows: Int32Array,
    readonly dims: number,
    readonly coarseRows: number,
    readonly options: TwoStageOptions,
  ) {}

  static async create(
    bank: Float32Array,
    rows: number,
    dims: number,
    options: Partial<TwoStageOptions> = {},
    session?: SessionOptions,
  ): Promise<TwoStageSearch> {
    const o = { ...DEFAULT_TWO_STAGE, ...options };
    if (!(o.coarseShare > 0 && o.coarseShare <= 1)) throw new RangeError(`coarseShare must be in (0, 1]`);
    if (!(o.rerankShare > 0 && o.rerankShare <= 1)) throw new RangeError(`rerankShare must be in (0, 1]`);
    const coarseRows = Math.max(1, Math.min(rows, Math.round(rows * o.coarseShare)));
    const [coarse, exact] = await Promise.all([
      NearestNeighbourSearch.create(bank.subarray(0, coarseRows * dims), coarseRows, dims, session),
      NearestNeighbourSearch.create(bank, rows, dims, session),
    ]);
    // Cells: each bank row under its nearest coarse row, in chunks that keep the distance matrix small.
    const owner = new Int32Array(rows);
    const chunk = Math.max(1, Math.floor(4_000_000 / coarseRows));
    for (let start = 0; start < rows; start += chunk) {
      const end = Math.min(rows, start + chunk);
      owner.set((await coarse.search(bank.subarray(start * dims, end * dims))).indices, start);
    }
    const cellStart = new Int32Array(coarseRows + 1);
    for (let r = 0; r < rows; r++) cellStart[owner[r] + 1]++;
    for (let c = 0; c < coarseRows; c++) cellStart[c + 1] += cellStart[c];
    const fill = cellStart.slice(0, coarseRows);
    const cellRows = new Int32Array(rows);
    for (let r = 0; r < rows; r++) cellRows[fill[owner[r]]++] = r;
    for (let c = 0; c < coarseRows; c++) {
      const cell = Array.from(cellRows.subarray(cellStart[c], cellStart[c + 1]));
      cell.sort((a, b) => squared(bank, a, bank, c, dims) - squared(bank, b, bank, c, dims));
      cellRows.set(cell, cellStart[c]);
    }
    return new TwoStageSearch(coarse, exact, bank, cellStart, cellRows, dims, coarseRows, o);
  }

  async search(queries: Float32Array, trace?: TwoStageTrace): Promise<NearestNeighbours> {
    const { dims, bank, cellStart, cellRows } = this;
    const n = queries.length / dims;
    const coarse = await this.coarse.search(queries);
    const distances = new Float32Array(n);
    const indices = new Int32Array(n);
    for (let q = 0; q < n; q++) {
      const cell = coarse.indices[q];
      let best = Infinity;
      let row = cell;
      const end = Math.min(cellStart[cell + 1], cellStart[cell] + CELL_ROWS_CHECKED);
      for (let k = cellStart[cell]; k < end; k++) {
        const d = squared(queries, q, bank, cellRows[k], dims);
        if (d < best || (d === best && cellRows[k] < row)) {
          best = d;
          row = cellRows[k];
        }
      }
      // The coarse row lies in its own cell unless it coincides with an earlier row; its distance bounds anyway.
      const own = coarse.distances[q];
      distances[q] = Math.min(Math.sqrt(best), own);
      indices[q] = Math.sqrt(best) <= own ? row : cell;
    }
    const bound = Float32Array.from(distances);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => bound[b] - bound[a]);
    let best = -Infinity;
    let done = 0;
    let rounds = 0;
    const rerank = async (picked: number[]) => {
      const batch = new Float32Array(picked.length * dims);
      picked.forEach((p, i) => batch.set(queries.subarray(p * dims, (p + 1) * dims), i * dims));
      const found = await this.exact.search(batch);
      picked.forEach((p, i) => {
        distances[p] = found.distances[i];
        indices[p] = found.indices[i];
        if (found.distances[i] > best) best = found.distances[i];
      });
      rounds++;
    };
    const first = Math.max(1, Math.min(n, Math.ceil(n * this.options.rerankShare)));
    await rerank(order.slice(0, first));
    done = first;
    // Every patch whose bound reaches the maximum found could be the image's maximum: all of them, in one run.
    let end = done;
    while (end < n && bound[order[end]] >= best) end++;
    if (end > done) {
      await rerank(order.slice(done, end));
      done = end;
    }
    if (trace) {
      trace.reranked = done;
      trace.rounds = rounds;
    }
    return { distances, indices };
  }

  async release(): Promise<void> {
    await Promise.all([this.coarse.release(), this.exact.release()]);
  }
}

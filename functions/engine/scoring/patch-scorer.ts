import type { SessionOptions } from '../onnx/create-session.ts';
import { searchMethodSetting } from '../paths.ts';
import { NearestBankRows, NearestNeighbourSearch, type NearestNeighbours } from '../search/nearest-neighbour-search.ts';
import {
  CellProbeSearch,
  type CellProbeOptions,
  type CellProbeTrace,
  type CellTable,
} from '../search/cell-probe-search.ts';
import { DEFAULT_SEARCH_METHOD, parseSearchMethod, type SearchMethod } from '../search/search-method.ts';
import { type ImageScore, maxPatchOf, reweightedImageScore } from './image-score.ts';

/** What PatchCore knows about one image after the search: per-patch distances and nearest bank rows, and its score. */
export interface PatchScores {
  /** Distance of each patch to its nearest bank row, row by row over the feature grid. */
  distances: Float32Array;
  /** Index of that bank row. */
  nearest: Int32Array;
  image: ImageScore;
}

export interface MemoryBank {
  data: Float32Array;
  rows: number;
  dims: number;
  /** The cell table saved with the model, if any (the cell-probe search builds one when it does not fit). */
  cells?: CellTable;
}

/** Which search a scorer runs: the method (default FAULTLINE_SEARCH, else cell-probe) and the cell-probe options. */
export interface SearchSettings {
  method?: SearchMethod;
  cellProbe?: Partial<CellProbeOptions>;
}

/**
 * The search method: the one asked for, else FAULTLINE_SEARCH ("exact" or "cell-probe"), else cell-probe: about 6x
 * less CPU than exact on a 15,680-row bank with image AUROC within 0.002 of exact on the three shared sets, but pixel
 * AUROC 0.002-0.015 lower (the map keeps upper bounds: README "Search"); exact stays the oracle and the sharper map.
 */
export function searchMethodOf(settings: SearchSettings = {}): SearchMethod {
  return settings.method ?? parseSearchMethod(searchMethodSetting() ?? DEFAULT_SEARCH_METHOD);
}

interface PatchSearch {
  search(queries: Float32Array, trace?: CellProbeTrace): Promise<NearestNeighbours>;
  release(): Promise<void>;
}

/**
 * Scores patch features against a memory bank: nearest-neighbour search (cell-probe by default, whose image score is
 * the exact search's when the farthest patch is re-ranked; exact on request), then anomalib's image score.
 */
export class PatchScorer {
  private constructor(
    private readonly search: PatchSearch,
    /** The re-weighting's support rows, found on onnxruntime; none when the score is not re-weighted. */
    private readonly support: NearestBankRows | undefined,
    readonly bank: MemoryBank,
    readonly patchesPerImage: number,
    readonly neighbours: number,
  ) {}

  static async create(
    bank: MemoryBank,
    patchesPerImage: number,
    neighbours: number,
    options?: SessionOptions & { search?: SearchSettings },
  ): Promise<PatchScorer> {
    const method = searchMethodOf(options?.search);
    const [search, support] = await Promise.all([
      method === 'exact'
        ? NearestNeighbourSearch.create(bank.data, bank.rows, bank.dims, options)
        : CellProbeSearch.create(bank.data, bank.rows, bank.dims, options?.search?.cellProbe, options, bank.cells),
      neighbours > 1 && bank.rows > 1
        ? NearestBankRows.create(bank.data, bank.rows, bank.dims, neighbours, options)
        : undefined,
    ]);
    return new PatchScorer(search, support, bank, patchesPerImage, neighbours);
  }

  /**
   * @param features [count * patchesPerImage, dims], as the feature extractor returns them
   * @param onSearched called with the time spent in the search, for the stage timings
   * @param trace filled by the cell-probe search with what its exact stage did (benchmark)
   */
  async score(
    features: Float32Array,
    count: number,
    onSearched?: (ms: number) => void,
    trace?: CellProbeTrace,
  ): Promise<PatchScores[]> {
    const { dims } = this.bank;
    const perImage = this.patchesPerImage * dims;
    const results: PatchScores[] = [];
    // One image per search call: the distance matrix of a whole batch (count x 784 x bank rows) would not fit.
    for (let i = 0; i < count; i++) {
      const imageFeatures = features.subarray(i * perImage, (i + 1) * perImage);
      const started = performance.now();
      const { distances, indices, maxPatch } = await this.search.search(imageFeatures, trace);
      onSearched?.(performance.now() - started);
      const patch = maxPatch ?? maxPatchOf(distances);
      const row = indices[patch];
      const support = await this.support?.of(this.bank.data.subarray(row * dims, (row + 1) * dims));
      const image = reweightedImageScore(
        distances,
        indices,
        imageFeatures,
        this.bank.data,
        this.bank.rows,
        dims,
        this.neighbours,
        { maxPatch: patch, support },
      );
      results.push({ distances, nearest: indices, image });
    }
    return results;
  }

  async release(): Promise<void> {
    await Promise.all([this.search.release(), this.support?.release()]);
  }
}

import type { SessionOptions } from '../onnx/create-session.ts';
import { searchMethodSetting } from '../paths.ts';
import { NearestNeighbourSearch, type NearestNeighbours } from '../search/nearest-neighbour-search.ts';
import {
  SEARCH_METHODS,
  type SearchMethod,
  TwoStageSearch,
  type TwoStageOptions,
  type TwoStageTrace,
} from '../search/two-stage-search.ts';
import { type ImageScore, reweightedImageScore } from './image-score.ts';

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
}

/** Which search a scorer runs: the method (default FAULTLINE_SEARCH, else exact) and the two-stage shares. */
export interface SearchSettings {
  method?: SearchMethod;
  twoStage?: Partial<TwoStageOptions>;
}

/**
 * The search method: the one asked for, else FAULTLINE_SEARCH ("exact" or "two-stage"), else exact. Two-stage keeps
 * the image score exact but leaves upper bounds in the low part of the map, which the pixel threshold and the regions
 * read; and it measured 0.7-1.8x, not a clear win: so it is a choice, not the default.
 */
export function searchMethodOf(settings: SearchSettings = {}): SearchMethod {
  const method = settings.method ?? searchMethodSetting() ?? 'exact';
  if (!SEARCH_METHODS.includes(method as SearchMethod))
    throw new Error(`FAULTLINE_SEARCH: unknown search "${method}" (use ${SEARCH_METHODS.join(', ')})`);
  return method as SearchMethod;
}

interface PatchSearch {
  search(queries: Float32Array, trace?: TwoStageTrace): Promise<NearestNeighbours>;
  release(): Promise<void>;
}

/**
 * Scores patch features against a memory bank: nearest-neighbour search (two-stage by default, whose image score is
 * the exact search's; exact on request), then anomalib's image score.
 */
export class PatchScorer {
  private constructor(
    private readonly search: PatchSearch,
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
    return new PatchScorer(
      method === 'exact'
        ? await NearestNeighbourSearch.create(bank.data, bank.rows, bank.dims, options)
        : await TwoStageSearch.create(bank.data, bank.rows, bank.dims, options?.search?.twoStage, options),
      bank,
      patchesPerImage,
      neighbours,
    );
  }

  /**
   * @param features [count * patchesPerImage, dims], as the feature extractor returns them
   * @param onSearched called with the time spent in the search, for the stage timings
   * @param trace filled by the two-stage search with what its exact stage did (benchmark)
   */
  async score(
    features: Float32Array,
    count: number,
    onSearched?: (ms: number) => void,
    trace?: TwoStageTrace,
  ): Promise<PatchScores[]> {
    const { dims } = this.bank;
    const perImage = this.patchesPerImage * dims;
    const results: PatchScores[] = [];
    // One image per search call: the distance matrix of a whole batch (count x 784 x bank rows) would not fit.
    for (let i = 0; i < count; i++) {
      const imageFeatures = features.subarray(i * perImage, (i + 1) * perImage);
      const started = performance.now();
      const { distances, indices } = await this.search.search(imageFeatures, trace);
      onSearched?.(performance.now() - started);
      const image = reweightedImageScore(
        distances,
        indices,
        imageFeatures,
        this.bank.data,
        this.bank.rows,
        dims,
        this.neighbours,
      );
      results.push({ distances, nearest: indices, image });
    }
    return results;
  }

  async release(): Promise<void> {
    await this.search.release();
  }
}

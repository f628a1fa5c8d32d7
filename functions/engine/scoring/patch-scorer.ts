import type { SessionOptions } from '../onnx/create-session.ts';
import { NearestNeighbourSearch } from '../search/nearest-neighbour-search.ts';
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

/** Scores patch features against a memory bank: exact nearest-neighbour search, then anomalib's image score. */
export class PatchScorer {
  private constructor(
    private readonly search: NearestNeighbourSearch,
    readonly bank: MemoryBank,
    readonly patchesPerImage: number,
    readonly neighbours: number,
  ) {}

  static async create(
    bank: MemoryBank,
    patchesPerImage: number,
    neighbours: number,
    options?: SessionOptions,
  ): Promise<PatchScorer> {
    return new PatchScorer(
      await NearestNeighbourSearch.create(bank.data, bank.rows, bank.dims, options),
      bank,
      patchesPerImage,
      neighbours,
    );
  }

  /**
   * @param features [count * patchesPerImage, dims], as the feature extractor returns them
   * @param onSearched called with the time spent in the search, for the stage timings
   */
  async score(features: Float32Array, count: number, onSearched?: (ms: number) => void): Promise<PatchScores[]> {
    const { dims } = this.bank;
    const perImage = this.patchesPerImage * dims;
    const results: PatchScores[] = [];
    // One image per search call: the distance matrix of a whole batch (count x 784 x bank rows) would not fit.
    for (let i = 0; i < count; i++) {
      const imageFeatures = features.subarray(i * perImage, (i + 1) * perImage);
      const started = performance.now();
      const { distances, indices } = await this.search.search(imageFeatures);
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

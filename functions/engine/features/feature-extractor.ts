import * as ort from 'onnxruntime-node';
import type { PreparedBackbone } from '../backbone/obtain-backbone.ts';
import { FEATURES_OUTPUT } from '../backbone/feature-model.ts';
import { createSession, type SessionOptions } from '../onnx/create-session.ts';
import {
  accumulateTile,
  copyTile,
  downscalePlanes,
  normaliseBlend,
  type TileLayout,
  tileLayout,
  tilesPerImage,
  upsampleFeatures,
} from './tiling.ts';

/** What the extractor looks at: the side the image is resized to, and whether a coarse whole-image view joins. */
export interface InspectionView {
  /** Side of the resized image; above the backbone's input size the image is cut into overlapping tiles. */
  resolution: number;
  /**
   * With tiles: also the whole image at the backbone's input size, its features upsampled to the fine grid and
   * appended to each patch's (twice the channels), so a patch's distance sees its fine detail and its place in the
   * whole.
   */
  multiScale: boolean;
}

/** The view a model was trained with, from its manifest (older models: the backbone's size, one view). */
export const inspectionViewOf = (manifest: {
  preprocessing: { size: number };
  backbone: { multiScale?: boolean };
}): InspectionView => ({ resolution: manifest.preprocessing.size, multiScale: manifest.backbone.multiScale ?? false });

/** Tiles per backbone run: enough to keep onnxruntime's kernels busy, little enough to bound memory. */
const TILES_PER_RUN = 16;

/** Runs the derived feature model: a normalised NCHW batch in, one feature vector per patch out. */
export class FeatureExtractor {
  /** Patches per image (grid x grid). */
  readonly patchesPerImage: number;
  /** Patches per side of an image's feature grid. */
  readonly grid: number;
  /** Values per patch. */
  readonly channels: number;
  readonly view: InspectionView;
  private readonly layout?: TileLayout;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly backbone: PreparedBackbone,
    view?: Partial<InspectionView>,
  ) {
    const size = backbone.manifest.input.size;
    const resolution = view?.resolution ?? size;
    const tiled = resolution !== size;
    this.view = { resolution, multiScale: tiled && (view?.multiScale ?? false) };
    if (tiled) this.layout = tileLayout(resolution, size, size / backbone.grid);
    this.grid = this.layout?.grid ?? backbone.grid;
    this.patchesPerImage = this.grid * this.grid;
    this.channels = backbone.channels * (this.view.multiScale ? 2 : 1);
  }

  static async create(
    backbone: PreparedBackbone,
    options?: SessionOptions,
    view?: Partial<InspectionView>,
  ): Promise<FeatureExtractor> {
    const size = backbone.manifest.input.size;
    // A bad resolution is refused before a session is opened.
    if (view?.resolution !== undefined && view.resolution !== size)
      tileLayout(view.resolution, size, size / backbone.grid);
    return new FeatureExtractor(await createSession(backbone.featureModelPath, options), backbone, view);
  }

  /** Side of the images extract() takes (the inspected resolution). */
  get inputSize(): number {
    return this.view.resolution;
  }

  /** Side of the backbone's own input. */
  get tileSize(): number {
    return this.backbone.manifest.input.size;
  }

  /** The backbone on a batch of [count, 3, tileSize, tileSize]: [count * backbone grid^2, backbone channels]. */
  async runBackbone(batch: Float32Array, count: number): Promise<Float32Array> {
    const size = this.tileSize;
    const input = new ort.Tensor('float32', batch.subarray(0, count * 3 * size * size), [count, 3, size, size]);
    const out = await this.session.run({ [this.backbone.manifest.input.name]: input });
    return out[FEATURES_OUTPUT].data as Float32Array;
  }

  /**
   * @param batch normalised pixels, [count, 3, inputSize, inputSize]
   * @returns features [count * patchesPerImage, channels], patch-major (row by row within each image)
   */
  async extract(batch: Float32Array, count: number): Promise<Float32Array> {
    if (!this.layout) return this.runBackbone(batch, count);
    return this.extractTiled(this.layout, batch, count);
  }

  private async extractTiled(layout: TileLayout, batch: Float32Array, count: number): Promise<Float32Array> {
    const t = this.tileSize;
    const perTile = 3 * t * t;
    const tiles = tilesPerImage(layout);
    const coarse = this.view.multiScale ? 1 : 0;
    const jobs: { image: number; tile: number }[] = [];
    for (let image = 0; image < count; image++)
      for (let tile = 0; tile < tiles + coarse; tile++) jobs.push({ image, tile });
    // Per call, not kept on the extractor: extractions run at once on one extractor (parallel detections).
    const tileBatch = new Float32Array(TILES_PER_RUN * perTile);

    const fine = this.backbone.channels;
    const cells = this.patchesPerImage;
    const sums = new Float32Array(count * cells * fine);
    const totals = new Float32Array(count * cells);
    const out = coarse ? new Float32Array(count * cells * this.channels) : sums;
    const tileCells = this.backbone.grid * this.backbone.grid;
    for (let start = 0; start < jobs.length; start += TILES_PER_RUN) {
      const run = jobs.slice(start, start + TILES_PER_RUN);
      run.forEach((j, k) =>
        j.tile < tiles
          ? copyTile(layout, batch, j.image, j.tile, tileBatch, k)
          : downscalePlanes(batch, j.image, layout.resolution, tileBatch, k, t),
      );
      const features = await this.runBackbone(tileBatch, run.length);
      run.forEach((j, k) => {
        const own = features.subarray(k * tileCells * fine, (k + 1) * tileCells * fine);
        if (j.tile < tiles) {
          accumulateTile(
            layout,
            j.tile,
            own,
            fine,
            sums.subarray(j.image * cells * fine, (j.image + 1) * cells * fine),
            totals.subarray(j.image * cells, (j.image + 1) * cells),
          );
        } else {
          const into = out.subarray(j.image * cells * this.channels, (j.image + 1) * cells * this.channels);
          upsampleFeatures(own, this.backbone.grid, layout.grid, fine, into, this.channels, fine);
        }
      });
    }
    normaliseBlend(sums, totals, fine);
    if (coarse) {
      for (let p = 0; p < count * cells; p++) out.set(sums.subarray(p * fine, (p + 1) * fine), p * this.channels);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

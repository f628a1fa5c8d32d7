import * as ort from 'onnxruntime-node';
import type { PreparedBackbone } from '../backbone/obtain-backbone.ts';
import { FEATURES_OUTPUT } from '../backbone/feature-model.ts';
import { createSession, type SessionOptions } from '../onnx/create-session.ts';

/** Runs the derived feature model: a normalised NCHW batch in, one feature vector per patch out. */
export class FeatureExtractor {
  /** Patches per image (grid x grid). */
  readonly patchesPerImage: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly backbone: PreparedBackbone,
  ) {
    this.patchesPerImage = backbone.grid * backbone.grid;
  }

  static async create(backbone: PreparedBackbone, options?: SessionOptions): Promise<FeatureExtractor> {
    return new FeatureExtractor(await createSession(backbone.featureModelPath, options), backbone);
  }

  get inputSize(): number {
    return this.backbone.manifest.input.size;
  }

  get channels(): number {
    return this.backbone.channels;
  }

  /**
   * @param batch normalised pixels, [count, 3, size, size]
   * @returns features [count * patchesPerImage, channels], patch-major (row by row within each image)
   */
  async extract(batch: Float32Array, count: number): Promise<Float32Array> {
    const size = this.inputSize;
    const input = new ort.Tensor('float32', batch.subarray(0, count * 3 * size * size), [count, 3, size, size]);
    const out = await this.session.run({ [this.backbone.manifest.input.name]: input });
    return out[FEATURES_OUTPUT].data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

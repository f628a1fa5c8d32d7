import type { Preprocessing } from '../artifact/artifact-manifest.ts';
import { DEFAULT_IMAGE_LIMITS, decodeImage, type ImageInfo, type ImageLimits } from '../image/decode-image.ts';
import { ImageNormaliser } from '../image/normalise.ts';

/** A decoded image ready to be written into a batch, with its displayed size. */
export interface DecodedImage {
  info: ImageInfo;
  rgb: Buffer;
  /** The image at its own size for the visualizations, when it was asked for and came from the same decode. */
  display?: Buffer;
}

/** Decodes images to the backbone's input and writes them, normalised, into a reusable NCHW batch. */
export class InputPreparer {
  private readonly normaliser: ImageNormaliser;
  readonly batch: Float32Array;

  constructor(
    readonly preprocessing: Preprocessing,
    readonly batchSize: number,
    readonly limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  ) {
    this.normaliser = new ImageNormaliser(
      preprocessing.mean,
      preprocessing.std,
      preprocessing.normalise === 'each-image',
    );
    this.batch = new Float32Array(batchSize * 3 * preprocessing.size * preprocessing.size);
  }

  /** `displayUpTo`: the visualizations show an image up to this side at its own size; decoded once for both when exact. */
  async decode(bytes: Uint8Array, displayUpTo?: number): Promise<DecodedImage> {
    const { info, model, display } = await decodeImage(bytes, this.preprocessing, this.limits, displayUpTo);
    return { info, rgb: model, display };
  }

  /** Writes the image into slot `slot` of `into` (a batch of this preparer's shape; default its own). */
  write(image: DecodedImage, slot: number, into: Float32Array = this.batch): void {
    this.normaliser.writeInto(image.rgb, into, slot, this.preprocessing.size);
  }
}

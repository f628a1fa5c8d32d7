import type { Preprocessing } from '../artifact/artifact-manifest.ts';
import { DEFAULT_IMAGE_LIMITS, decodeForModel, type ImageInfo, type ImageLimits, inspectImage } from '../image/decode-image.ts';
import { ImageNormaliser } from '../image/normalise.ts';

/** A decoded image ready to be written into a batch, with its displayed size. */
export interface DecodedImage {
  info: ImageInfo;
  rgb: Buffer;
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
    this.normaliser = new ImageNormaliser(preprocessing.mean, preprocessing.std);
    this.batch = new Float32Array(batchSize * 3 * preprocessing.size * preprocessing.size);
  }

  async decode(bytes: Uint8Array): Promise<DecodedImage> {
    const info = await inspectImage(bytes, this.limits);
    const rgb = await decodeForModel(bytes, this.preprocessing, this.limits);
    return { info, rgb };
  }

  write(image: DecodedImage, slot: number): void {
    this.normaliser.writeInto(image.rgb, this.batch, slot, this.preprocessing.size);
  }
}

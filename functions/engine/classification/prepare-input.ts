import sharp from 'sharp';
import { InvalidImageError } from '../errors.ts';
import { DEFAULT_IMAGE_LIMITS, type ImageInfo, inspectImage } from '../image/decode-image.ts';
import type { ClassifierSpec } from './classifier-spec.ts';

type InputSpec = ClassifierSpec['input'];

const FIT = { stretch: 'fill', crop: 'cover', letterbox: 'contain' } as const;

/**
 * Decodes an image as the classifier's spec says: EXIF orientation applied, sRGB (grey expanded, alpha flattened on
 * black), resized by the spec's mode to width x height, then the channel order, the normalisation and the layout.
 * Returns the [1, ...] float tensor's values and the image's header.
 */
export async function prepareClassifierInput(
  bytes: Uint8Array,
  input: InputSpec,
): Promise<{ data: Float32Array; info: ImageInfo }> {
  const info = await inspectImage(bytes, DEFAULT_IMAGE_LIMITS);
  let rgb: Buffer;
  try {
    const out = await sharp(bytes, { failOn: 'warning', limitInputPixels: DEFAULT_IMAGE_LIMITS.maxPixels })
      .rotate()
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .toColourspace('srgb')
      .resize(input.width, input.height, { fit: FIT[input.resize], background: { r: 0, g: 0, b: 0 } })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (out.info.channels !== 3) throw new Error(`decoded to ${out.info.channels} channels`);
    rgb = out.data;
  } catch (cause) {
    throw new InvalidImageError(
      'CORRUPT_IMAGE',
      `the image could not be decoded: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
  return { data: rgbToTensor(rgb, input), info };
}

/** HWC RGB bytes at the input's size to the model's float layout (pure; the tests' reference for the spec's maths). */
export function rgbToTensor(rgb: Uint8Array, input: InputSpec): Float32Array {
  const plane = input.width * input.height;
  const out = new Float32Array(plane * 3);
  const order = input.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const { scale, mean, std } = input.normalise;
  // A lookup table per model channel: one load and one store per value.
  const tables = order.map((_, c) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++) t[v] = (v * scale - mean[c]) / std[c];
    return t;
  });
  for (let c = 0; c < 3; c++) {
    const table = tables[c];
    const source = order[c];
    if (input.layout === 'NCHW') {
      const base = c * plane;
      for (let i = 0; i < plane; i++) out[base + i] = table[rgb[i * 3 + source]];
    } else {
      for (let i = 0; i < plane; i++) out[i * 3 + c] = table[rgb[i * 3 + source]];
    }
  }
  return out;
}

/** The input tensor's dims for one image. */
export const inputDims = (input: InputSpec): number[] =>
  input.layout === 'NCHW' ? [1, 3, input.height, input.width] : [1, input.height, input.width, 3];

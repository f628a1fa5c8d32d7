import sharp from 'sharp';
import type { Preprocessing } from '../artifact/artifact-manifest.ts';
import { InvalidImageError } from '../errors.ts';

/**
 * A ground-truth mask as 0/1 per pixel at width x height (nearest-neighbour resampled when its size differs, so
 * that it stays binary). Any non-zero grey level (after rounding at 128) counts as defect.
 */
export async function decodeMask(bytes: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  try {
    const { data } = await sharp(bytes)
      .rotate()
      .greyscale()
      .resize(width, height, { fit: 'fill', kernel: 'nearest' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const out = new Uint8Array(width * height);
    for (let i = 0; i < out.length; i++) out[i] = data[i] >= 128 ? 1 : 0;
    return out;
  } catch (cause) {
    throw new InvalidImageError(
      'CORRUPT_IMAGE',
      `the mask could not be decoded: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}

/**
 * A ground-truth mask in the model input's geometry (size x size), transformed as the image is: resized to the
 * input, or to resizeTo and centre-cropped. This is how anomalib scores pixels, so figures compare with its own.
 */
export async function decodeMaskForInput(bytes: Uint8Array, preprocessing: Preprocessing): Promise<Uint8Array> {
  const { size, resize, resizeTo } = preprocessing;
  if (resize === 'direct') return decodeMask(bytes, size, size);
  const full = await decodeMask(bytes, resizeTo, resizeTo);
  const offset = Math.floor((resizeTo - size) / 2);
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++)
    out.set(full.subarray((y + offset) * resizeTo + offset, (y + offset) * resizeTo + offset + size), y * size);
  return out;
}

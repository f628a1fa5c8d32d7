import sharp from 'sharp';
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
    throw new InvalidImageError('CORRUPT_IMAGE', `the mask could not be decoded: ${(cause as Error).message}`, {}, { cause });
  }
}

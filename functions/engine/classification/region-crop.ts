import sharp from 'sharp';
import { decodeMask } from '../image/decode-mask.ts';
import { inspectImage } from '../image/decode-image.ts';

/** Context around a region, as a share of its size on each side: a crack's crop shows some of the surface around it. */
export const CROP_MARGIN = 0.25;
/** The smallest crop side, in image pixels: a tiny region is read with its surroundings. */
export const MIN_CROP_SIDE = 32;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The crop of a region with its margin, clamped to the image (boxes are in displayed pixels: EXIF applied). */
export function regionCrop(
  box: Rect,
  image: { width: number; height: number },
): { left: number; top: number; width: number; height: number } {
  const w = Math.max(box.width * (1 + 2 * CROP_MARGIN), MIN_CROP_SIDE);
  const h = Math.max(box.height * (1 + 2 * CROP_MARGIN), MIN_CROP_SIDE);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const left = Math.min(Math.max(0, Math.floor(cx - w / 2)), image.width - 1);
  const top = Math.min(Math.max(0, Math.floor(cy - h / 2)), image.height - 1);
  return {
    left,
    top,
    width: Math.max(1, Math.min(image.width - left, Math.ceil(w))),
    height: Math.max(1, Math.min(image.height - top, Math.ceil(h))),
  };
}

/** The regions' crops of an image (EXIF orientation applied first), as PNGs. */
export async function cropRegions(bytes: Uint8Array, boxes: Rect[], image: { width: number; height: number }) {
  const oriented = await sharp(bytes).rotate().toBuffer();
  return Promise.all(boxes.map((box) => sharp(oriented).extract(regionCrop(box, image)).png().toBuffer()));
}

/**
 * The crop of an image around its ground-truth mask's region (the bounding box of every defect pixel), as the
 * anomaly pipeline would crop a detected region; the whole image when the mask is empty.
 */
export async function cropAroundMask(imageBytes: Uint8Array, maskBytes: Uint8Array): Promise<Buffer> {
  const info = await inspectImage(imageBytes);
  const mask = await decodeMask(maskBytes, info.width, info.height);
  let x0 = info.width;
  let y0 = info.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++)
      if (mask[y * info.width + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  if (x1 < 0) return Buffer.from(imageBytes);
  const [crop] = await cropRegions(imageBytes, [{ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }], info);
  return crop;
}

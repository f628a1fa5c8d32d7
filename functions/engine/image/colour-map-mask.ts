import sharp from 'sharp';
import { InvalidImageError } from '../errors.ts';
import { DEFAULT_IMAGE_LIMITS } from './decode-image.ts';

const rgbOf = (hex: string): number => Number.parseInt(hex.slice(1), 16);

/**
 * A segmentation mask in colours (Ground Truth's form: each class in its colour of the internal-color-map) as the
 * binary mask PNG the evaluation reads (255 where a pixel has an anomaly class's colour, 0 elsewhere), with its size
 * and how many pixels each anomaly class covers. A mask whose size differs from the image's, or with no pixel in any
 * anomaly colour, is refused: it labels nothing the evaluation could use.
 */
export async function binaryMaskFromColourMap(
  maskBytes: Uint8Array,
  anomalyColours: Record<string, string>,
  imageSize: { width: number; height: number },
): Promise<{ png: Buffer; pixelsByClass: Record<string, number> }> {
  const raw = await sharp(maskBytes, { limitInputPixels: DEFAULT_IMAGE_LIMITS.maxPixels })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((cause: Error) => {
      throw new InvalidImageError('CORRUPT_IMAGE', `the mask cannot be decoded: ${cause.message}`, {}, { cause });
    });
  const { data, info } = raw;
  if (info.width !== imageSize.width || info.height !== imageSize.height)
    throw new InvalidImageError(
      'CORRUPT_IMAGE',
      `the mask is ${info.width}x${info.height}, its image ${imageSize.width}x${imageSize.height}`,
    );
  const classOf = new Map(Object.entries(anomalyColours).map(([name, hex]) => [rgbOf(hex), name]));
  const pixelsByClass: Record<string, number> = Object.fromEntries(Object.keys(anomalyColours).map((n) => [n, 0]));
  const out = Buffer.alloc(info.width * info.height);
  let anomalous = 0;
  for (let i = 0, p = 0; i < out.length; i++, p += info.channels) {
    const name = classOf.get((data[p]! << 16) | (data[p + 1]! << 8) | data[p + 2]!);
    if (name === undefined) continue;
    out[i] = 255;
    pixelsByClass[name]!++;
    anomalous++;
  }
  if (anomalous === 0)
    throw new InvalidImageError('CORRUPT_IMAGE', 'the mask has no pixel in any anomaly colour of its colour map');
  const png = await sharp(out, { raw: { width: info.width, height: info.height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  return { png, pixelsByClass };
}

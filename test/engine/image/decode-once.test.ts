import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  decodeForDisplay,
  decodeForModel,
  decodeImage,
  type ModelInputGeometry,
} from '../../../functions/engine/image/decode-image.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

const CROP: ModelInputGeometry = { size: 224, resize: 'crop', resizeTo: 240 };
const DIRECT: ModelInputGeometry = { size: 224, resize: 'direct', resizeTo: 224 };

/** Smooth noise (blurred, so that resampling differences would show), encoded in a format. */
async function image(
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  encode: (s: Sharp) => Sharp,
  seed = 1,
): Promise<Buffer> {
  const random = seededRandom(seed);
  const data = Buffer.from(Uint8Array.from({ length: width * height * channels }, () => Math.floor(random() * 256)));
  return encode(sharp(data, { raw: { width, height, channels } }).blur(2)).toBuffer();
}

const cases: [string, () => Promise<Buffer>, ModelInputGeometry, boolean][] = [
  ['JPEG 288 x 384 (the cookies)', () => image(288, 384, 3, (s) => s.jpeg()), CROP, true],
  ['JPEG 234 x 320, direct', () => image(234, 320, 3, (s) => s.jpeg()), DIRECT, true],
  [
    'JPEG 240 x 320, EXIF orientation 6 (two decodes)',
    () => image(240, 320, 3, (s) => s.jpeg().withMetadata({ orientation: 6 })),
    CROP,
    false,
  ],
  ['PNG 900 x 900', () => image(900, 900, 3, (s) => s.png()), CROP, true],
  ['grey PNG 320 x 240', () => image(320, 240, 1, (s) => s.toColourspace('b-w').png()), CROP, true],
  ['WebP 300 x 300 (two decodes)', () => image(300, 300, 3, (s) => s.webp()), CROP, false],
  ['JPEG 470 x 470, just under the shrink-on-load', () => image(470, 470, 3, (s) => s.jpeg()), CROP, true],
  ['JPEG 600 x 600 (shrinks on load: two decodes)', () => image(600, 600, 3, (s) => s.jpeg()), CROP, false],
  ['RGBA PNG 300 x 300 (alpha: two decodes)', () => image(300, 300, 4, (s) => s.png()), CROP, false],
  ['16-bit PNG 300 x 300 (two decodes)', () => image(300, 300, 3, (s) => s.toColourspace('rgb16').png()), CROP, false],
];

describe('decodeImage: one decode for model and display, byte for byte as two', () => {
  for (const [name, make, geometry, once] of cases) {
    it(name, async () => {
      const bytes = await make();
      const decoded = await decodeImage(bytes, geometry, undefined, 1024);
      expect(decoded.display !== undefined).toBe(once);
      expect(Buffer.compare(decoded.model, await decodeForModel(bytes, geometry))).toBe(0);
      if (decoded.display)
        expect(
          Buffer.compare(decoded.display, await decodeForDisplay(bytes, decoded.info.width, decoded.info.height)),
        ).toBe(0);
    });
  }

  it('decodes for the model only when no display is wanted, or the image is larger than the map', async () => {
    const bytes = await image(288, 384, 3, (s) => s.jpeg());
    expect((await decodeImage(bytes, CROP)).display).toBeUndefined();
    expect((await decodeImage(bytes, CROP, undefined, 256)).display).toBeUndefined();
  });
});

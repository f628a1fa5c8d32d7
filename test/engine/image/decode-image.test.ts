import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidImageError } from '../../../functions/engine/errors.ts';
import { InputPreparer } from '../../../functions/engine/features/input-preparer.ts';
import {
  DEFAULT_IMAGE_LIMITS,
  decodeForDisplay,
  decodeForModel,
  inspectImage,
  type ModelInputGeometry,
} from '../../../functions/engine/image/decode-image.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { animatedGif, pngHeaderOnly } from '../../helpers/images.ts';

const DIRECT_32: ModelInputGeometry = { size: 32, resize: 'direct', resizeTo: 32 };

/** Deterministic noise pixels (noise keeps compressed files large, so truncation cuts into pixel data). */
function noise(width: number, height: number, channels: number, seed = 1): Buffer {
  const random = seededRandom(seed);
  return Buffer.from(Uint8Array.from({ length: width * height * channels }, () => Math.floor(random() * 256)));
}

const rawImage = (data: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4) =>
  sharp(data, { raw: { width, height, channels } });

async function rejection(promise: Promise<unknown>): Promise<InvalidImageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidImageError);
  return error as InvalidImageError;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<InvalidImageError> {
  const error = await rejection(promise);
  expect(error.code).toBe(code);
  return error;
}

describe('inspectImage: refused inputs', () => {
  it('empty bytes: EMPTY_IMAGE', async () => {
    await expectCode(inspectImage(new Uint8Array(0)), 'EMPTY_IMAGE');
  });

  it('the bytes of a text file: UNSUPPORTED_IMAGE', async () => {
    await expectCode(inspectImage(Buffer.from('hello, not an image')), 'UNSUPPORTED_IMAGE');
  });

  it('a PDF: UNSUPPORTED_IMAGE', async () => {
    await expectCode(
      inspectImage(Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF')),
      'UNSUPPORTED_IMAGE',
    );
  });

  it('an SVG (vector formats are refused even though sharp can render them): UNSUPPORTED_IMAGE', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>',
    );
    const error = await expectCode(inspectImage(svg), 'UNSUPPORTED_IMAGE');
    expect(error.details).toEqual({ format: 'svg' });
  });

  it('an animated GIF: UNSUPPORTED_IMAGE (only its first frame would be looked at); a one-frame GIF is accepted', async () => {
    const error = await expectCode(inspectImage(await animatedGif(3)), 'UNSUPPORTED_IMAGE');
    expect(error.details).toMatchObject({ format: 'gif', frames: 3 });
    expect(await inspectImage(await animatedGif(1))).toEqual({ width: 32, height: 32, format: 'gif' });
  });

  it('a 20000x20000 header: IMAGE_TOO_LARGE, from the header alone and quickly', async () => {
    const bytes = pngHeaderOnly(20_000, 20_000);
    expect(bytes.byteLength).toBeLessThan(100);
    const started = performance.now();
    const error = await expectCode(inspectImage(bytes), 'IMAGE_TOO_LARGE');
    // Decoding 400 megapixels would take seconds and over a gigabyte; reading the header takes about a millisecond.
    expect(performance.now() - started).toBeLessThan(500);
    expect(error.details).toEqual({ width: 20_000, height: 20_000, maxPixels: DEFAULT_IMAGE_LIMITS.maxPixels });
    expect(error.message).toContain('20000x20000');
  });

  it('the pixel limit is inclusive and configurable', async () => {
    const limits = { maxPixels: 64 * 64, minSide: 16 };
    await expect(inspectImage(pngHeaderOnly(64, 64), limits)).resolves.toEqual({
      width: 64,
      height: 64,
      format: 'png',
    });
    await expectCode(inspectImage(pngHeaderOnly(65, 64), limits), 'IMAGE_TOO_LARGE');
  });

  it('a 1x1 PNG: IMAGE_TOO_SMALL', async () => {
    const onePixel = await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .png()
      .toBuffer();
    const error = await expectCode(inspectImage(onePixel), 'IMAGE_TOO_SMALL');
    expect(error.details).toEqual({ width: 1, height: 1, minSide: 16 });
  });

  it('the smallest side is inclusive: 16x16 passes, 15x40 does not', async () => {
    await expect(
      inspectImage(
        await rawImage(noise(16, 16, 3), 16, 16, 3)
          .png()
          .toBuffer(),
      ),
    ).resolves.toMatchObject({ width: 16, height: 16 });
    await expectCode(
      inspectImage(
        await rawImage(noise(15, 40, 3), 15, 40, 3)
          .png()
          .toBuffer(),
      ),
      'IMAGE_TOO_SMALL',
    );
  });
});

describe('damaged images: the header reads, the decode fails', () => {
  it('a JPEG cut at 60%: inspect passes, decodeForModel and decodeForDisplay reject with CORRUPT_IMAGE', async () => {
    const jpeg = await rawImage(noise(64, 64, 3), 64, 64, 3)
      .jpeg({ quality: 90 })
      .toBuffer();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.byteLength * 0.6));
    await expect(inspectImage(truncated)).resolves.toEqual({ width: 64, height: 64, format: 'jpeg' });
    const error = await expectCode(decodeForModel(truncated, DIRECT_32), 'CORRUPT_IMAGE');
    expect(error.message).toMatch(/premature end/i);
    await expectCode(decodeForDisplay(truncated, 64, 64), 'CORRUPT_IMAGE');
    // The whole file decodes, so it is the truncation that is refused (not grey-filled).
    expect((await decodeForModel(jpeg, DIRECT_32)).byteLength).toBe(32 * 32 * 3);
  });

  it('a PNG cut at 60%: inspect passes, decodeForModel rejects with CORRUPT_IMAGE', async () => {
    const png = await rawImage(noise(64, 64, 3), 64, 64, 3)
      .png()
      .toBuffer();
    const truncated = png.subarray(0, Math.floor(png.byteLength * 0.6));
    await expect(inspectImage(truncated)).resolves.toEqual({ width: 64, height: 64, format: 'png' });
    await expectCode(decodeForModel(truncated, DIRECT_32), 'CORRUPT_IMAGE');
  });

  it('decodeForModel refuses a huge header by its pixel limit without decoding it', async () => {
    const started = performance.now();
    const error = await rejection(
      decodeForModel(pngHeaderOnly(20_000, 20_000), { size: 224, resize: 'direct', resizeTo: 224 }),
    );
    expect(error.message).toContain('pixel limit');
    expect(performance.now() - started).toBeLessThan(500);
  });

  // Regression: sharp throws synchronously on empty input, which once escaped as a plain Error.
  it('decodeForModel on empty bytes rejects with a typed EMPTY_IMAGE or CORRUPT_IMAGE error', async () => {
    const error = await rejection(decodeForModel(new Uint8Array(0), DIRECT_32));
    expect(['EMPTY_IMAGE', 'CORRUPT_IMAGE']).toContain(error.code);
  });
});

describe('decodeForModel: accepted inputs become 3-channel sRGB bytes', () => {
  it('a grey PNG expands to three equal channels', async () => {
    const grey = await rawImage(Buffer.alloc(32 * 32, 100), 32, 32, 1)
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const rgb = await decodeForModel(grey, DIRECT_32);
    expect(rgb.byteLength).toBe(32 * 32 * 3);
    expect(rgb.every((v) => v === 100)).toBe(true);
  });

  it('a 16-bit grey PNG is scaled to 8 bits', async () => {
    const grey16 = await sharp(new Uint16Array(32 * 32).fill(257 * 77), { raw: { width: 32, height: 32, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    expect((await sharp(grey16).metadata()).depth).toBe('ushort');
    const rgb = await decodeForModel(grey16, DIRECT_32);
    expect(rgb.byteLength).toBe(32 * 32 * 3);
    expect(rgb.every((v) => v === 77)).toBe(true);
  });

  it('a 16-bit RGB PNG is scaled to 8 bits, value for value', async () => {
    const values = Uint16Array.from({ length: 32 * 32 * 3 }, (_, i) => 257 * ((i * 7) % 256));
    const png16 = await sharp(values, { raw: { width: 32, height: 32, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const meta = await sharp(png16).metadata();
    expect([meta.space, meta.depth, meta.bitsPerSample]).toEqual(['rgb16', 'ushort', 16]);
    const rgb = await decodeForModel(png16, DIRECT_32);
    expect(rgb.byteLength).toBe(32 * 32 * 3);
    expect(Array.from(rgb)).toEqual(Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7) % 256));
  });

  it('an RGBA PNG is flattened on black: opaque pixels keep their colour, transparent ones turn black', async () => {
    const data = Buffer.alloc(32 * 32 * 4);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const o = (y * 32 + x) * 4;
        data.set(x < 16 ? [200, 100, 50, 255] : [255, 255, 255, 0], o);
      }
    }
    const rgba = await rawImage(data, 32, 32, 4).png().toBuffer();
    expect((await sharp(rgba).metadata()).hasAlpha).toBe(true);
    const rgb = await decodeForModel(rgba, DIRECT_32);
    expect(rgb.byteLength).toBe(32 * 32 * 3);
    for (const y of [0, 15, 31]) {
      expect(Array.from(rgb.subarray((y * 32 + 0) * 3, (y * 32 + 0) * 3 + 3))).toEqual([200, 100, 50]);
      expect(Array.from(rgb.subarray((y * 32 + 31) * 3, (y * 32 + 31) * 3 + 3))).toEqual([0, 0, 0]);
    }
  });

  it('a CMYK JPEG is converted to RGB with roughly its colour', async () => {
    const cmyk = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 60, b: 30 } } })
      .toColourspace('cmyk')
      .jpeg({ quality: 100 })
      .toBuffer();
    const meta = await sharp(cmyk).metadata();
    expect([meta.space, meta.channels]).toEqual(['cmyk', 4]);
    const rgb = await decodeForModel(cmyk, DIRECT_32);
    expect(rgb.byteLength).toBe(32 * 32 * 3);
    const [r, g, b] = rgb;
    expect(Math.abs(r - 200)).toBeLessThanOrEqual(20);
    expect(Math.abs(g - 60)).toBeLessThanOrEqual(20);
    expect(b).toBeLessThanOrEqual(50);
    expect(r).toBeGreaterThan(g);
    // Uniform colour in, uniform colour out.
    for (let i = 3; i < rgb.length; i += 3) expect([rgb[i], rgb[i + 1], rgb[i + 2]]).toEqual([r, g, b]);
  });

  it('direct resize of an image already at the input size is the identity', async () => {
    const pixels = noise(32, 32, 3, 9);
    const rgb = await decodeForModel(await rawImage(pixels, 32, 32, 3).png().toBuffer(), DIRECT_32);
    expect(Buffer.compare(rgb, pixels)).toBe(0);
  });

  it("resize 'crop' (224 from 256) returns 224*224*3 bytes: the centre of the 256 image", async () => {
    const pixels = noise(256, 256, 3, 4);
    const png = await rawImage(pixels, 256, 256, 3).png().toBuffer();
    const rgb = await decodeForModel(png, { size: 224, resize: 'crop', resizeTo: 256 });
    expect(rgb.byteLength).toBe(224 * 224 * 3);
    const expected = Buffer.alloc(224 * 224 * 3);
    for (let y = 0; y < 224; y++)
      pixels.copy(expected, y * 224 * 3, ((y + 16) * 256 + 16) * 3, ((y + 16) * 256 + 16 + 224) * 3);
    expect(Buffer.compare(rgb, expected)).toBe(0);
  });

  it("resize 'crop' with an odd margin (224 from 227) starts at floor(3 / 2) = 1", async () => {
    const pixels = noise(227, 227, 3, 5);
    const rgb = await decodeForModel(await rawImage(pixels, 227, 227, 3).png().toBuffer(), {
      size: 224,
      resize: 'crop',
      resizeTo: 227,
    });
    expect(rgb.byteLength).toBe(224 * 224 * 3);
    for (const [y, x] of [
      [0, 0],
      [0, 223],
      [223, 0],
      [111, 57],
      [223, 223],
    ]) {
      const got = Array.from(rgb.subarray((y * 224 + x) * 3, (y * 224 + x) * 3 + 3));
      const src = ((y + 1) * 227 + (x + 1)) * 3;
      expect(got).toEqual(Array.from(pixels.subarray(src, src + 3)));
    }
  });

  it("resize 'crop' cuts away the border that 'direct' keeps (a 512 image with 32-pixel red edges)", async () => {
    const data = Buffer.alloc(512 * 512 * 3);
    for (let y = 0; y < 512; y++) {
      for (let x = 0; x < 512; x++) {
        const edge = x < 32 || y < 32 || x >= 480 || y >= 480;
        data.set(edge ? [255, 0, 0] : [0, 0, 255], (y * 512 + x) * 3);
      }
    }
    const png = await rawImage(data, 512, 512, 3).png().toBuffer();
    const cropped = await decodeForModel(png, { size: 224, resize: 'crop', resizeTo: 256 });
    const direct = await decodeForModel(png, { size: 224, resize: 'direct', resizeTo: 224 });
    const at = (buf: Buffer, x: number, y: number) =>
      Array.from(buf.subarray((y * 224 + x) * 3, (y * 224 + x) * 3 + 3));
    // After resizing to 256 the red border is 16 pixels wide, exactly the crop's margin.
    for (const [x, y] of [
      [0, 0],
      [223, 0],
      [0, 223],
      [223, 223],
      [112, 0],
      [0, 112],
    ]) {
      expect(at(cropped, x, y)[0]).toBeLessThan(40);
      expect(at(direct, x, y)[0]).toBeGreaterThan(215);
    }
    expect(at(cropped, 112, 112)).toEqual([0, 0, 255]);
  });
});

describe('EXIF orientation', () => {
  /** Stored 40 wide x 20 high: left half red, right half blue; orientation 6 means "rotate 90 degrees clockwise to view". */
  async function rotatedJpeg(): Promise<Buffer> {
    const data = Buffer.alloc(40 * 20 * 3);
    for (let y = 0; y < 20; y++)
      for (let x = 0; x < 40; x++) data.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
    return rawImage(data, 40, 20, 3).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  }

  it('inspectImage reports the displayed size (20 wide, 40 high) of 40x20 stored pixels', async () => {
    const jpeg = await rotatedJpeg();
    const meta = await sharp(jpeg).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([40, 20, 6]);
    await expect(inspectImage(jpeg)).resolves.toEqual({ width: 20, height: 40, format: 'jpeg' });
  });

  it('decodeForDisplay applies the rotation: the stored left half is the displayed top half', async () => {
    const rgb = await decodeForDisplay(await rotatedJpeg(), 20, 40);
    expect(rgb.byteLength).toBe(20 * 40 * 3);
    const at = (x: number, y: number) => Array.from(rgb.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3));
    for (const [x, y] of [
      [0, 0],
      [19, 5],
      [10, 15],
    ]) {
      const [r, , b] = at(x, y);
      expect(r).toBeGreaterThan(200);
      expect(b).toBeLessThan(50);
    }
    for (const [x, y] of [
      [0, 39],
      [19, 30],
      [10, 25],
    ]) {
      const [r, , b] = at(x, y);
      expect(b).toBeGreaterThan(200);
      expect(r).toBeLessThan(50);
    }
  });

  it('the smallest side is checked after rotation', async () => {
    const jpeg = await rawImage(noise(40, 15, 3), 40, 15, 3)
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const error = await expectCode(inspectImage(jpeg), 'IMAGE_TOO_SMALL');
    expect(error.details).toMatchObject({ width: 15, height: 40 });
  });
});

describe('decodeForDisplay', () => {
  it('returns exactly width x height x 3 bytes for a non-square target', async () => {
    const png = await rawImage(noise(64, 64, 3), 64, 64, 3)
      .png()
      .toBuffer();
    expect((await decodeForDisplay(png, 30, 20)).byteLength).toBe(30 * 20 * 3);
  });
});

describe('InputPreparer.decode', () => {
  const preprocessing = {
    size: 32,
    resize: 'direct' as const,
    resizeTo: 32,
    mean: [0.5, 0.5, 0.5] as [number, number, number],
    std: [0.25, 0.25, 0.25] as [number, number, number],
  };

  it('returns the displayed size and the model input, and write() normalises it into the batch slot', async () => {
    const preparer = new InputPreparer(preprocessing, 2);
    const image = await rawImage(Buffer.alloc(48 * 40 * 3, 153), 48, 40, 3)
      .png()
      .toBuffer();
    const decoded = await preparer.decode(image);
    expect(decoded.info).toEqual({ width: 48, height: 40, format: 'png' });
    expect(decoded.rgb.byteLength).toBe(32 * 32 * 3);
    expect(decoded.rgb.every((v) => v === 153)).toBe(true);
    preparer.write(decoded, 1);
    const plane = 32 * 32;
    expect(preparer.batch[0]).toBe(0); // slot 0 untouched
    expect(preparer.batch[3 * plane]).toBeCloseTo((153 / 255 - 0.5) / 0.25, 5);
    expect(preparer.batch[6 * plane - 1]).toBeCloseTo((153 / 255 - 0.5) / 0.25, 5);
  });

  it.each<[string, () => Promise<Uint8Array>, string]>([
    ['empty bytes', async () => new Uint8Array(0), 'EMPTY_IMAGE'],
    ['text', async () => Buffer.from('hello, not an image'), 'UNSUPPORTED_IMAGE'],
    [
      'an SVG',
      async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"/>'),
      'UNSUPPORTED_IMAGE',
    ],
    [
      'a 1x1 PNG',
      () =>
        sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
          .png()
          .toBuffer(),
      'IMAGE_TOO_SMALL',
    ],
    ['a 20000x20000 header', async () => pngHeaderOnly(20_000, 20_000), 'IMAGE_TOO_LARGE'],
    [
      'a truncated JPEG',
      async () => {
        const jpeg = await rawImage(noise(64, 64, 3), 64, 64, 3)
          .jpeg()
          .toBuffer();
        return jpeg.subarray(0, Math.floor(jpeg.byteLength * 0.6));
      },
      'CORRUPT_IMAGE',
    ],
  ])('refuses %s with %s', async (_, make, code) => {
    await expectCode(new InputPreparer(preprocessing, 1).decode(await make()), code);
  });

  it('applies its own limits', async () => {
    const preparer = new InputPreparer(preprocessing, 1, { maxPixels: 1000, minSide: 16 });
    await expectCode(
      preparer.decode(
        await rawImage(noise(40, 40, 3), 40, 40, 3)
          .png()
          .toBuffer(),
      ),
      'IMAGE_TOO_LARGE',
    );
  });
});

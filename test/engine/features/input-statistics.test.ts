import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { memoryImage } from '../../../functions/engine/dataset/image-source.ts';
import {
  chooseNormalisation,
  type ImageSetStatistics,
  type InputStatistics,
  LIGHTING_DRIFT_RATIO,
  needsImageStatistics,
  measureInputStatistics,
} from '../../../functions/engine/features/input-statistics.ts';

const GEOMETRY = { size: 32, resize: 'direct' as const, resizeTo: 32 };
const IMAGENET: InputStatistics = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** A lossless 32 x 32 PNG: left half one colour, right half another (so the resize keeps every value). */
async function halves(left: [number, number, number], right: [number, number, number]): Promise<Uint8Array> {
  const raw = Buffer.alloc(32 * 32 * 3);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) raw.set(x < 16 ? left : right, (y * 32 + x) * 3);
  return sharp(raw, { raw: { width: 32, height: 32, channels: 3 } })
    .png()
    .toBuffer();
}

describe('measureInputStatistics', () => {
  it("gives each channel's mean and standard deviation over every pixel of every image, in [0, 1] units", async () => {
    const images = [
      memoryImage('a.png', await halves([0, 51, 255], [102, 51, 255])),
      memoryImage('b.png', await halves([204, 51, 255], [102, 51, 255])),
    ];
    const stats = await measureInputStatistics(images, GEOMETRY);
    // Red: a quarter of the pixels 0, half 0.4, a quarter 0.8 -> mean 0.4, sd sqrt(0.08).
    expect(stats!.mean[0]).toBeCloseTo(0.4, 6);
    expect(stats!.std[0]).toBeCloseTo(Math.sqrt(0.08), 6);
    expect(stats!.mean[1]).toBeCloseTo(0.2, 6);
    expect(stats!.mean[2]).toBeCloseTo(1, 6);
    // A flat channel gets one grey level of spread, not zero (which would divide by zero).
    expect(stats!.std[1]).toBeCloseTo(1 / 255, 9);
    expect(stats!.std[2]).toBeCloseTo(1 / 255, 9);
  });

  it('measures on at most maxImages images spread evenly over the set', async () => {
    const black = memoryImage('black.png', await halves([0, 0, 0], [0, 0, 0]));
    const white = memoryImage('white.png', await halves([255, 255, 255], [255, 255, 255]));
    // Of [black, white, black, white], two spread evenly are the 1st and the 3rd.
    const stats = await measureInputStatistics([black, white, black, white], GEOMETRY, undefined, 2);
    expect(stats!.mean).toEqual([0, 0, 0]);
    expect((await measureInputStatistics([black, white, black, white], GEOMETRY))!.mean).toEqual([0.5, 0.5, 0.5]);
  });

  it("measures the lighting drift: the spread of the images' mean brightness over their own mean spread", async () => {
    const grey = (v: number): [number, number, number] => [v, v, v];
    const darker = memoryImage('dark.png', await halves(grey(0), grey(102))); // mean 0.2, sd 0.2
    const lighter = memoryImage('light.png', await halves(grey(102), grey(204))); // mean 0.6, sd 0.2
    // Means 0.2 and 0.6: spread 0.2 between photos, 0.2 within each.
    expect((await measureInputStatistics([darker, lighter], GEOMETRY))!.lightingDrift).toBeCloseTo(1, 6);
    expect((await measureInputStatistics([darker, darker], GEOMETRY))!.lightingDrift).toBe(0);
    // One photo: nothing to drift from.
    expect((await measureInputStatistics([lighter], GEOMETRY))!.lightingDrift).toBe(0);
  });

  it('leaves out images that cannot be decoded, and gives undefined when none can', async () => {
    const good = memoryImage('a.png', await halves([0, 0, 0], [255, 255, 255]));
    const broken = memoryImage('broken.png', new TextEncoder().encode('not an image'));
    const stats = await measureInputStatistics([broken, good], GEOMETRY);
    expect(stats!.mean).toEqual([0.5, 0.5, 0.5]);
    expect(await measureInputStatistics([broken], GEOMETRY)).toBeUndefined();
  });
});

describe('chooseNormalisation', () => {
  const dark: ImageSetStatistics = { mean: [0.07, 0.08, 0.08], std: [0.056, 0.052, 0.048], lightingDrift: 0.03 };
  const ordinary: ImageSetStatistics = { mean: [0.51, 0.44, 0.34], std: [0.27, 0.19, 0.12], lightingDrift: 0.14 };

  it("auto takes the images' own statistics only where their contrast is under half the backbone's", () => {
    expect(chooseNormalisation('auto', dark, IMAGENET)).toEqual({ applied: 'images', statistics: dark });
    expect(chooseNormalisation('auto', ordinary, IMAGENET)).toEqual({ applied: 'backbone', statistics: IMAGENET });
  });

  it('auto normalises each image by its own where photos of ordinary contrast drift in brightness', () => {
    const drifting = { ...ordinary, lightingDrift: 1.56 };
    expect(chooseNormalisation('auto', drifting, IMAGENET)).toEqual({ applied: 'each-image', statistics: IMAGENET });
    expect(chooseNormalisation('auto', { ...ordinary, lightingDrift: LIGHTING_DRIFT_RATIO }, IMAGENET).applied).toBe(
      'each-image',
    );
    expect(chooseNormalisation('auto', { ...ordinary, lightingDrift: 0.49 }, IMAGENET).applied).toBe('backbone');
    // A low-contrast set keeps one gain for all its photos, drifting or not (its own spread is mostly noise).
    expect(chooseNormalisation('auto', { ...dark, lightingDrift: 1.56 }, IMAGENET).applied).toBe('images');
    // Asked for explicitly, the others do not look at the drift.
    expect(chooseNormalisation('backbone', drifting, IMAGENET).applied).toBe('backbone');
    expect(chooseNormalisation('images', drifting, IMAGENET).applied).toBe('images');
  });

  it('backbone and images are taken as asked; without readable images the backbone statistics stay', () => {
    expect(chooseNormalisation('backbone', dark, IMAGENET).applied).toBe('backbone');
    expect(chooseNormalisation('images', ordinary, IMAGENET)).toEqual({ applied: 'images', statistics: ordinary });
    expect(chooseNormalisation('images', undefined, IMAGENET)).toEqual({ applied: 'backbone', statistics: IMAGENET });
  });

  it("each-image records the backbone's statistics (every image brings its own) and reads none of the images'", () => {
    expect(chooseNormalisation('each-image', dark, IMAGENET)).toEqual({ applied: 'each-image', statistics: IMAGENET });
    expect(chooseNormalisation('each-image', undefined, IMAGENET).applied).toBe('each-image');
    expect(needsImageStatistics('each-image')).toBe(false);
    expect(needsImageStatistics('backbone')).toBe(false);
    expect(needsImageStatistics('auto')).toBe(true);
    expect(needsImageStatistics('images')).toBe(true);
  });
});

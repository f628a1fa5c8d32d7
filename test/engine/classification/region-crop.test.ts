import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { cropAroundMask, regionCrop } from '../../../functions/engine/classification/region-crop.ts';

describe('region crops', () => {
  it('adds a quarter of the region on each side, at least 32 px, clamped to the image', () => {
    expect(regionCrop({ x: 40, y: 40, width: 20, height: 20 }, { width: 200, height: 100 })).toEqual({
      left: 34,
      top: 34,
      width: 32,
      height: 32,
    });
    expect(regionCrop({ x: 100, y: 20, width: 80, height: 40 }, { width: 200, height: 100 })).toEqual({
      left: 80,
      top: 10,
      width: 120,
      height: 60,
    });
    // At the corner: never outside, never empty
    const corner = regionCrop({ x: 195, y: 95, width: 5, height: 5 }, { width: 200, height: 100 });
    expect(corner.left + corner.width).toBeLessThanOrEqual(200);
    expect(corner.top + corner.height).toBeLessThanOrEqual(100);
    expect(corner.width).toBeGreaterThan(0);
  });

  it('crops around the ground-truth mask’s region', async () => {
    const image = await sharp({ create: { width: 100, height: 80, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const mask = await sharp({ create: { width: 100, height: 80, channels: 3, background: '#000000' } })
      .composite([
        { input: { create: { width: 40, height: 20, channels: 3, background: '#ffffff' } }, left: 30, top: 30 },
      ])
      .png()
      .toBuffer();
    const crop = await sharp(await cropAroundMask(image, mask)).metadata();
    expect([crop.width, crop.height]).toEqual([60, 32]);
  });
});

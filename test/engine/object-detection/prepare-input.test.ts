import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseObjectDetectorSpec } from '../../../functions/engine/object-detection/detector-spec.ts';
import { prepareInput } from '../../../functions/engine/object-detection/prepare-input.ts';

describe('prepareInput', () => {
  // A 32 x 16 image of one colour onto a 32 x 32 input: 8 rows of padding above, the image, 8 rows below.
  const colour = { r: 200, g: 100, b: 50 };
  const image = () =>
    sharp({ create: { width: 32, height: 16, channels: 3, background: colour } })
      .png()
      .toBuffer();
  const spec = (input: Record<string, unknown>) =>
    parseObjectDetectorSpec({ input: { name: 'images', width: 32, height: 32, ...input }, classes: ['a'] });
  const at = (data: Float32Array, channel: number, y: number, x = 5) => data[channel * 32 * 32 + y * 32 + x];

  it('lays out NCHW in RGB scaled to 0..1, padding with the spec grey', async () => {
    const { data, geometry } = await prepareInput(await image(), spec({ padValue: 100 }));
    expect(geometry).toMatchObject({ resizedWidth: 32, resizedHeight: 16, top: 8, bottom: 8, left: 0, right: 0 });
    expect([at(data, 0, 0), at(data, 1, 0), at(data, 2, 31)]).toEqual(
      [100 / 255, 100 / 255, 100 / 255].map(Math.fround),
    );
    expect([at(data, 0, 8), at(data, 1, 12), at(data, 2, 23)]).toEqual(
      [200 / 255, 100 / 255, 50 / 255].map(Math.fround),
    );
    expect(at(data, 0, 24)).toBe(Math.fround(100 / 255));
  });

  it('follows the channel order and range of the spec', async () => {
    const { data } = await prepareInput(await image(), spec({ channelOrder: 'bgr', range: '0-255' }));
    expect([at(data, 0, 10), at(data, 1, 10), at(data, 2, 10)]).toEqual([50, 100, 200]);
    expect(at(data, 0, 0)).toBe(114);
  });
});

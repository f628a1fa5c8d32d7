import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelArtifact } from '../../../functions/engine/artifact/model-artifact.ts';
import { memoryImage } from '../../../functions/engine/dataset/image-source.ts';
import { Detector } from '../../../functions/engine/detection/detector.ts';
import { sharedDir } from '../../../functions/engine/paths.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { train } from '../../../functions/engine/training/train.ts';

const SIDE = 448; // 3 x 3 tiles of 224 at offsets 0, 112, 224: tile borders at 112, 224 and 336
const backbone = join(sharedDir(), 'models', 'mobilenetv2-12-int8.onnx');

/** A stationary texture (seeded noise on grey), with a dark 10 x 10 px square centred at (x, y) when given. */
async function texture(seed: number, defect?: { x: number; y: number }): Promise<Uint8Array> {
  const random = seededRandom(seed);
  const rgb = Buffer.alloc(SIDE * SIDE * 3);
  for (let p = 0; p < SIDE * SIDE; p++) {
    const v = 150 + Math.round((random() - 0.5) * 60);
    rgb[p * 3] = v;
    rgb[p * 3 + 1] = v - 10;
    rgb[p * 3 + 2] = v - 20;
  }
  if (defect) {
    for (let y = defect.y - 5; y < defect.y + 5; y++)
      for (let x = defect.x - 5; x < defect.x + 5; x++) rgb.fill(20, (y * SIDE + x) * 3, (y * SIDE + x) * 3 + 3);
  }
  return sharp(rgb, { raw: { width: SIDE, height: SIDE, channels: 3 } })
    .png()
    .toBuffer();
}

/** The seam test of high-resolution inspection: a defect on a tile border scores as one in a tile's middle. */
describe.skipIf(!existsSync(backbone))('tiled inspection at 448 px', () => {
  let model: ModelArtifact;
  beforeAll(async () => {
    const images = await Promise.all([1, 2, 3].map(async (s) => memoryImage(`t${s}.png`, await texture(s))));
    ({ artifact: model } = await train(images, { resolution: SIDE, resize: 'direct', augment: ['hflip'] }));
  }, 120_000);

  it('scores a defect on a tile border, on a tile corner and between tile centres as one in a tile middle', async () => {
    const detector = await Detector.load(model);
    expect(detector.manifest.preprocessing.size).toBe(SIDE);
    expect(detector.manifest.backbone.grid).toBe(SIDE / 8);
    const peak = async (at: { x: number; y: number }) => {
      const { rawMap } = await detector.detect(await texture(9, at), { rawMap: true, visualizations: false });
      // The map is at the image's own size here (448 <= maxMapSide): the peak within 16 px of the defect.
      let best = 0;
      for (let y = at.y - 16; y < at.y + 16; y++)
        for (let x = at.x - 16; x < at.x + 16; x++) best = Math.max(best, rawMap!.data[y * SIDE + x]);
      return best;
    };
    const clean = (await detector.detect(await texture(9), { visualizations: false })).result.raw_score;
    const middle = await peak({ x: 224 - 56, y: 168 }); // no tile has it at its border, none at its centre
    const centre = await peak({ x: 112, y: 112 }); // the centre of the first tile, the border of the second
    const border = await peak({ x: 224, y: 168 }); // the right border of the first tile, the left of the third
    const corner = await peak({ x: 224, y: 224 }); // where four tiles meet
    await detector.release();
    // Each is clearly a defect, and the border positions are within 15 % of the others.
    for (const p of [middle, centre, border, corner]) expect(p).toBeGreaterThan(1.5 * clean);
    const all = [middle, centre, border, corner];
    const spread = (Math.max(...all) - Math.min(...all)) / Math.max(...all);
    expect(spread, `peaks ${all.map((p) => p.toFixed(3)).join(', ')}`).toBeLessThan(0.15);
  }, 60_000);
});

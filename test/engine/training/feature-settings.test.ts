import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelArtifact } from '../../../functions/engine/artifact/model-artifact.ts';
import { fileImage } from '../../../functions/engine/dataset/image-source.ts';
import { Detector } from '../../../functions/engine/detection/detector.ts';
import { InvalidOptionError } from '../../../functions/engine/errors.ts';
import { measureInputStatistics } from '../../../functions/engine/features/input-statistics.ts';
import { sharedDir } from '../../../functions/engine/paths.ts';
import { train } from '../../../functions/engine/training/train.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');

const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];

/** Feature settings travel from training into the model and back into detection. */
describe.skipIf(!existsSync(cookie))('feature aggregation and input normalisation settings', () => {
  let wide: ModelArtifact;
  const images = () =>
    readdirSync(join(cookie, 'train', 'good'))
      .sort()
      .slice(0, 3)
      .map((n) => fileImage(n, join(cookie, 'train', 'good', n)));
  const scoreWith = async (artifact: ModelArtifact) => {
    const detector = await Detector.load(artifact);
    try {
      const bytes = await readFile(join(cookie, 'test', 'cracked', 'anomaly-2.jpg'));
      return (await detector.detect(bytes, { visualizations: false })).result.raw_score;
    } finally {
      await detector.release();
    }
  };

  beforeAll(async () => {
    ({ artifact: wide } = await train(images(), { aggregation: 5 }));
  }, 60_000);

  it('records a 5 x 5 aggregation in the model, and detection averages the same neighbourhood', async () => {
    expect(wide.manifest.backbone.aggregation).toBe(5);
    const own = await scoreWith(wide);
    // The same bank read with 3 x 3 features (the field absent, as in older models) scores differently.
    const { aggregation: _, ...backbone } = wide.manifest.backbone;
    const misread = await scoreWith({ ...wide, manifest: { ...wide.manifest, backbone } });
    expect(Math.abs(own - misread)).toBeGreaterThan(1e-3 * Math.abs(own));
  });

  it("with normalise images the model keeps the training images' own statistics; auto keeps cookie's ImageNet ones", async () => {
    const { artifact } = await train(images(), { normalise: 'images' });
    const own = await measureInputStatistics(images(), artifact.manifest.preprocessing);
    expect(artifact.manifest.preprocessing).toMatchObject({ normalise: 'images', mean: own!.mean, std: own!.std });
    // The detector reads them from the model: the same bank scored with ImageNet statistics gives another score.
    const misread = await scoreWith({
      ...artifact,
      manifest: { ...artifact.manifest, preprocessing: { ...artifact.manifest.preprocessing, mean: IMAGENET_MEAN } },
    });
    expect(Math.abs((await scoreWith(artifact)) - misread)).toBeGreaterThan(1e-3);

    const { artifact: auto } = await train(images(), { normalise: 'auto' });
    expect(auto.manifest.preprocessing).toMatchObject({ normalise: 'backbone', mean: IMAGENET_MEAN });
  }, 60_000);

  it('with normalise each-image the model says so, and detection scores a photo the same however bright it was taken', async () => {
    const { artifact } = await train(images(), { normalise: 'each-image' });
    expect(artifact.manifest.preprocessing).toMatchObject({ normalise: 'each-image', mean: IMAGENET_MEAN });
    const bytes = await readFile(join(cookie, 'test', 'cracked', 'anomaly-2.jpg'));
    // The same photo with half the light (a linear change: the normalised pixels are the same up to rounding).
    const dimmer = await sharp(bytes).linear(0.5, 0).png().toBuffer();
    const scores = async (model: ModelArtifact) => {
      const detector = await Detector.load(model);
      try {
        const one = await detector.detect(bytes, { visualizations: false });
        const two = await detector.detect(dimmer, { visualizations: false });
        return [one.result.raw_score, two.result.raw_score];
      } finally {
        await detector.release();
      }
    };
    const [own, ownDimmer] = await scores(artifact);
    expect(Math.abs(own - ownDimmer)).toBeLessThan(0.01 * own); // measured 0.3 %
    // The backbone's statistics see the change in light (measured 3.5 %, eleven times as much).
    const [fixed, fixedDimmer] = await scores((await train(images(), { normalise: 'backbone' })).artifact);
    expect(Math.abs(fixed - fixedDimmer)).toBeGreaterThan(5 * Math.abs(own - ownDimmer));
  }, 60_000);

  it('refuses an aggregation that is not 1, 3, 5 or 7 before any work', async () => {
    await expect(train(images(), { aggregation: 4 })).rejects.toThrow(InvalidOptionError);
    await expect(train(images(), { aggregation: 4 })).rejects.toThrow(/aggregation must be one of 1, 3, 5, 7/);
    await expect(train(images(), { normalise: 'imagenet' as 'images' })).rejects.toThrow(InvalidOptionError);
  });
});

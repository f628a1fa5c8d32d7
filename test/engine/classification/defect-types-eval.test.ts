import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackboneManifest } from '../../../functions/engine/backbone/backbone-manifest.ts';
import { evaluateDefectTypes } from '../../../functions/engine/evaluation/evaluate-defect-types.ts';
import { sharedDir } from '../../../functions/engine/paths.ts';

const backbonePath = join(sharedDir(), 'models', 'mobilenetv2-12-int8.onnx');
const tile = join(sharedDir(), 'datasets', 'magnetic_tile');
const sum = (m: number[][]) => m.flat().reduce((a, b) => a + b, 0);

/** Defect types end to end on a small magnetic_tile category (4 normal images; 2 types of 6 images with masks). */
describe.skipIf(!existsSync(backbonePath) || !existsSync(tile))('defect types on detected regions', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'faultline-defect-types-'));
    await mkdir(join(root, 'train', 'good'), { recursive: true });
    for (const f of readdirSync(join(tile, 'train', 'good'))
      .sort()
      .slice(0, 4))
      await copyFile(join(tile, 'train', 'good', f), join(root, 'train', 'good', f));
    for (const defect of ['blowhole', 'uneven']) {
      await mkdir(join(root, 'test', defect), { recursive: true });
      await mkdir(join(root, 'ground_truth', defect), { recursive: true });
      for (const f of readdirSync(join(tile, 'test', defect))
        .sort()
        .slice(0, 6)) {
        const mask = `${basename(f, extname(f))}_mask.png`;
        await copyFile(join(tile, 'test', defect, f), join(root, 'test', defect, f));
        await copyFile(join(tile, 'ground_truth', defect, mask), join(root, 'ground_truth', defect, mask));
      }
    }
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('types each held-out image’s detected region on the defect, counts the missed ones, and keeps the ground-truth baseline', async () => {
    const r = await evaluateDefectTypes(root, {
      backbone: {
        bytes: await readFile(backbonePath),
        manifest: loadBackboneManifest(),
        fileName: 'mobilenetv2-12-int8.onnx',
      },
      folds: 3,
      anomaly: { augmentBelow: 1 },
      threshold: 0.3, // few normal images: a lower threshold so that regions surely appear
    });
    expect(r).toMatchObject({
      classes: ['blowhole', 'uneven'],
      defective_images: 12,
      anomaly_train_images: 4,
      folds: 3,
    });
    // every defective image is either missed (no region, or none on the defect) or typed from its detected region
    expect(r.no_region + r.region_off_defect + r.detected_regions.images).toBe(12);
    expect(sum(r.detected_regions.confusion_matrix)).toBe(r.detected_regions.images);
    expect(r.detected_regions.images).toBeGreaterThan(0);
    // the report rounds to 4 places: 2 / 12 reads 0.1667
    expect(r.found_and_typed).toBeLessThanOrEqual(r.detected_regions.images / 12 + 5e-5);
    expect(r.found_and_typed).toBeCloseTo(
      r.detected_regions.confusion_matrix.reduce((a, row, i) => a + row[i], 0) / 12,
      3,
    );
    // the same held-out regions, by a classifier that also learnt from the training folds' detected regions
    expect(r.detected_regions_trained_on_detections.images).toBe(r.detected_regions.images);
    expect(sum(r.detected_regions_trained_on_detections.confusion_matrix)).toBe(r.detected_regions.images);
    // the baseline: every image's ground-truth crop, typed by the same folds' classifiers
    expect(r.ground_truth_regions.images).toBe(12);
    expect(sum(r.ground_truth_regions.confusion_matrix)).toBe(12);
    expect(r.ground_truth_regions.accuracy).toBeGreaterThanOrEqual(0.75);
  });
});

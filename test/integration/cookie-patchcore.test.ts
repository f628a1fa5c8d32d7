import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelArtifact } from '../../functions/engine/artifact/model-artifact.ts';
import { Detector } from '../../functions/engine/detection/detector.ts';
import { evaluateCategory, type EvaluationReport } from '../../functions/engine/evaluation/evaluate-category.ts';
import { decodeMask } from '../../functions/engine/image/decode-mask.ts';
import { sharedDir } from '../../functions/engine/paths.ts';
import { VISUALIZATION_KINDS } from '../../functions/engine/visualize/render-visualizations.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');

/** Trains PatchCore on the real cookie images (train/good), evaluates on test/*, then detects with the model. */
describe.skipIf(!existsSync(cookie))('PatchCore on the cookie data set', () => {
  let report: EvaluationReport;
  let artifact: ModelArtifact;
  let detector: Detector;
  const cracked = join(cookie, 'test', 'cracked', 'anomaly-1.jpg');
  const crackedMask = join(cookie, 'ground_truth', 'cracked', 'anomaly-1_mask.png');

  beforeAll(async () => {
    ({ report, artifact } = await evaluateCategory(cookie));
    detector = await Detector.load(artifact);
  });
  afterAll(() => detector?.release());

  it('separates cracked from good cookies, per image and per pixel', () => {
    // Every training image is in the bank and also calibrates (against a bank of the others).
    expect(report.counts).toMatchObject({ train: 31, calibration: 31 });
    expect(report.quality).toBe('ok');
    expect(report.falseAlarms.flagged).toBeLessThanOrEqual(1);
    expect(report.counts.anomalous).toBe(40);
    expect(report.counts.withMask).toBe(32);
    expect(report.imageAuroc).toBeGreaterThanOrEqual(0.95);
    expect(report.pixelAuroc).toBeGreaterThanOrEqual(0.95);
    expect(report.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('reports the image AUROC of each defect type, which the whole set averages weighted by its images', () => {
    const types = Object.keys(report.imageAurocByDefect).sort();
    expect(types).toEqual(['anomaly_unlabeled', 'cracked']);
    const counts: Record<string, number> = { anomaly_unlabeled: 8, cracked: 32 };
    let weighted = 0;
    for (const t of types) {
      expect(report.imageAurocByDefect[t]).toBeGreaterThanOrEqual(0);
      expect(report.imageAurocByDefect[t]).toBeLessThanOrEqual(1);
      weighted += counts[t] * report.imageAurocByDefect[t];
    }
    // AUROC is the mean over the defective images of their win rate against the good ones, so it splits by type.
    expect(weighted / 40).toBeCloseTo(report.imageAuroc, 3);
  });

  it('flags a cracked cookie with a box over the crack and explains it with a training patch', async () => {
    const { result } = await detector.detect(await readFile(cracked));
    expect(result.is_anomalous).toBe(true);
    expect(result.anomaly_score).toBeGreaterThan(0.5);
    expect(['Overloway', 'Faulty']).toContain(result.classification);
    expect(result.image).toEqual({ width: 288, height: 384, format: 'jpeg' });
    expect(result.bounding_boxes.length).toBeGreaterThan(0);

    // The strongest box covers crack pixels of the ground truth.
    const mask = await decodeMask(await readFile(crackedMask), 288, 384);
    const box = result.bounding_boxes[0];
    let inside = 0;
    for (let y = box.y; y < box.y + box.height; y++)
      for (let x = box.x; x < box.x + box.width; x++) inside += mask[y * 288 + x];
    expect(inside).toBeGreaterThan(0);
    expect(box.x + box.width).toBeLessThanOrEqual(288);
    expect(box.y + box.height).toBeLessThanOrEqual(384);

    expect(result.evidence).not.toBeNull();
    const trainNames = new Set(artifact.manifest.training.imageNames);
    expect(trainNames.has(result.evidence!.nearest_normal.image)).toBe(true);
    expect(result.evidence!.distance).toBeGreaterThan(artifact.manifest.thresholds.pixel.threshold * 0.5);
    expect(result.damage_percentage).toBeGreaterThan(0);
    expect(result.model_version).toBe(detector.modelVersion);
  });

  it('scores the same image the same way every time', async () => {
    const bytes = await readFile(cracked);
    const a = await detector.detect(bytes);
    const b = await detector.detect(bytes);
    expect(b.result.raw_score).toBe(a.result.raw_score);
    expect(b.result.bounding_boxes).toEqual(a.result.bounding_boxes);
  });

  it('scores images detected at once on one detector as it scores them one by one (no shared input batch)', async () => {
    const files = [
      'cracked/anomaly-1.jpg',
      'good/test-normal-1.jpg',
      'cracked/anomaly-2.jpg',
      'good/test-normal-2.jpg',
    ];
    const images = await Promise.all(files.map((f) => readFile(join(cookie, 'test', f))));
    const alone: number[] = [];
    for (const bytes of images) alone.push((await detector.detect(bytes)).result.raw_score);
    for (let round = 0; round < 3; round++) {
      const together = await Promise.all(images.map((bytes) => detector.detect(bytes)));
      expect(together.map((d) => d.result.raw_score)).toEqual(alone);
    }
  });

  it('renders the five visualizations as PNGs at the image size', async () => {
    const { visualizations, result } = await detector.detect(await readFile(cracked), { visualizations: true });
    expect(Object.keys(visualizations!).sort()).toEqual([...VISUALIZATION_KINDS].sort());
    for (const kind of VISUALIZATION_KINDS) {
      const meta = await sharp(visualizations![kind]).metadata();
      expect(meta.format).toBe('png');
      expect([meta.width, meta.height]).toEqual([288, 384]);
    }
    expect(result.timings_ms.encode).toBeGreaterThan(0);
  });

  it('keeps going past a bad image in a batch, giving its typed error in its place', async () => {
    const good = await readFile(join(cookie, 'test', 'good', 'test-normal-1.jpg'));
    const items = await detector.detectBatch([
      { name: 'good', bytes: good },
      { name: 'text', bytes: Buffer.from('not an image at all') },
      { name: 'cracked', bytes: await readFile(cracked) },
    ]);
    expect(items.map((i) => i.name)).toEqual(['good', 'text', 'cracked']);
    expect('error' in items[1] && items[1].error.code).toBe('UNSUPPORTED_IMAGE');
    expect('detection' in items[2] && items[2].detection.result.is_anomalous).toBe(true);
  });

  it('moves the decision with a caller threshold, and refuses one outside (0, 1)', async () => {
    const bytes = await readFile(cracked);
    const strict = await detector.detect(bytes, { threshold: 0.999 });
    expect(strict.result.is_anomalous).toBe(strict.result.anomaly_score >= 0.999);
    expect(strict.result.threshold).toBe(0.999);
    await expect(detector.detect(bytes, { threshold: 1.5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});

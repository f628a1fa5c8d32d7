import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadModelArtifact,
  type ModelArtifact,
  saveModelArtifact,
} from '../../../functions/engine/artifact/model-artifact.ts';
import { fileImage } from '../../../functions/engine/dataset/image-source.ts';
import { Detector } from '../../../functions/engine/detection/detector.ts';
import { sharedDir } from '../../../functions/engine/paths.ts';
import { extendMemoryBank } from '../../../functions/engine/training/extend-bank.ts';
import { train } from '../../../functions/engine/training/train.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');

/** Adding a reviewed false alarm's patches to a bank, on real cookies (a model from 3 images calls one good cookie faulty). */
describe.skipIf(!existsSync(cookie))('extending a memory bank', () => {
  let base: ModelArtifact;
  const falseAlarm = fileImage('review:inbox/p/line-1/a.jpg', join(cookie, 'test', 'good', 'test-normal-1.jpg'));
  const detect = async (d: Detector, path: string) =>
    (await d.detect(await readFile(join(cookie, 'test', path)), { visualizations: false })).result;

  beforeAll(async () => {
    const names = readdirSync(join(cookie, 'train', 'good'))
      .sort()
      .slice(0, 3);
    ({ artifact: base } = await train(names.map((n) => fileImage(n, join(cookie, 'train', 'good', n)))));
  }, 60_000);

  it('keeps the old rows, appends a coreset of the new patches, and the false alarm then passes while cracks are caught', async () => {
    const before = await Detector.load(base);
    expect((await detect(before, 'good/test-normal-1.jpg')).is_anomalous).toBe(true);
    await before.release();

    const { artifact, report } = await extendMemoryBank(base, [falseAlarm], { version: 'v2' });
    const { rows, dims } = base.manifest.memoryBank;
    const perImage = base.manifest.backbone.grid ** 2;
    expect(report.addedImages).toBe(1);
    // The model's coreset ratio of the new patches (fewer only if the bank covered some exactly).
    expect(report.addedRows).toBeGreaterThan(0);
    expect(report.addedRows).toBeLessThanOrEqual(Math.round(perImage * base.manifest.memoryBank.coresetRatio));
    expect(artifact.manifest.memoryBank.rows).toBe(rows + report.addedRows);
    expect(artifact.bank.subarray(0, rows * dims)).toEqual(base.bank);
    expect(artifact.sources.subarray(0, rows)).toEqual(base.sources);
    const image = base.manifest.training.imageNames.length;
    for (const s of artifact.sources.subarray(rows)) expect(Math.floor(s / perImage)).toBe(image);
    expect(artifact.manifest.training.imageNames.at(-1)).toBe(falseAlarm.name);
    expect(artifact.manifest.training.extensions).toEqual([
      expect.objectContaining({ images: 1, rows: report.addedRows }),
    ]);
    expect(artifact.manifest.thresholds).toEqual(base.manifest.thresholds);
    expect(artifact.manifest.version).toBe('v2');

    // A valid model: saved and loaded with its digests checked.
    const dir = await mkdtemp(join(tmpdir(), 'faultline-extend-'));
    try {
      await saveModelArtifact(join(dir, 'model'), artifact);
      const after = await Detector.load(await loadModelArtifact(join(dir, 'model')));
      const passed = await detect(after, 'good/test-normal-1.jpg');
      expect(passed.is_anomalous).toBe(false);
      expect(passed.evidence === null || typeof passed.evidence.nearest_normal.image === 'string').toBe(true);
      for (const crack of ['cracked/anomaly-1.jpg', 'cracked/anomaly-2.jpg', 'cracked/anomaly-3.jpg'])
        expect((await detect(after, crack)).is_anomalous).toBe(true);
      await after.release();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an empty list and images none of which can be read', async () => {
    await expect(extendMemoryBank(base, [])).rejects.toMatchObject({ code: 'DATASET_INVALID' });
    const broken = { name: 'broken', read: async () => new Uint8Array([1, 2, 3]) };
    await expect(extendMemoryBank(base, [broken])).rejects.toMatchObject({ code: 'DATASET_INVALID' });
  });
});

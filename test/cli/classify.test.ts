import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot, sharedDir } from '../../functions/engine/paths.ts';

const tile = join(sharedDir(), 'datasets', 'magnetic_tile', 'test');
const cli = join(projectRoot(), 'bin', 'faultline.js');

function faultline(...args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot() });
  const lines = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return { status: run.status, lines, stderr: run.stderr };
}

describe.skipIf(!existsSync(tile))('faultline classify', () => {
  let work: string;
  const classes = ['blowhole', 'uneven'];
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-classify-cli-'));
    for (const c of classes) {
      await mkdir(join(work, 'data', c), { recursive: true });
      for (const f of readdirSync(join(tile, c)).sort().slice(0, 6))
        await copyFile(join(tile, c, f), join(work, 'data', c, f));
    }
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('trains from class folders, writes model.onnx + spec.json, and predicts with them', () => {
    const out = join(work, 'model');
    const trained = faultline(
      'classify',
      'train',
      join(work, 'data'),
      '--out',
      out,
      '--folds',
      '3',
      '--head',
      'defect_type',
      '--no-progress',
    );
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.lines[0].evaluation).toMatchObject({ folds: 3, images: 12, classes });
    expect(trained.lines[0].evaluation.confusion_matrix).toHaveLength(2);
    expect(readdirSync(out).sort()).toEqual(['model.onnx', 'report.json', 'spec.json']);
    const image = join(work, 'data', 'blowhole', readdirSync(join(work, 'data', 'blowhole'))[0]);
    const predicted = faultline('classify', 'predict', out, image);
    expect(predicted.status, predicted.stderr).toBe(0);
    expect(predicted.lines[0]).toMatchObject({ image, model_type: 'onnx' });
    expect(Object.keys(predicted.lines[0].heads.defect_type.scores)).toEqual(classes);
  }, 120_000);

  it('refuses one class, and a bad --folds, with the reason', () => {
    const one = faultline('classify', 'eval', join(work, 'data', 'blowhole'), '--no-progress');
    expect(one.status).toBe(1);
    expect(one.stderr).toContain('a sub-folder named after the class');
    const folds = faultline('classify', 'eval', join(work, 'data'), '--folds', '1');
    expect(folds.status).toBe(2);
  }, 60_000);

  it('refuses eval-detected on class folders (it needs an MVTec category with masks), and a bad --threshold', () => {
    const folders = faultline('classify', 'eval-detected', join(work, 'data'), '--no-progress');
    expect(folders.status).toBe(1);
    expect(folders.stderr).toContain('is not an MVTec-layout category');
    const threshold = faultline('classify', 'eval-detected', join(work, 'data'), '--threshold', '1.5');
    expect(threshold.status).toBe(2);
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot, sharedDir } from '../../functions/engine/paths.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');
const cli = join(projectRoot(), 'bin', 'faultline.js');

function faultline(...args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot() });
  const lines = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return { status: run.status, lines, stderr: run.stderr };
}

describe.skipIf(!existsSync(cookie))('faultline CLI', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-cli-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('trains on an MVTec category and detects, one JSON line per image, errors in place', async () => {
    const model = join(work, 'model');
    const trained = faultline('train', cookie, '--out', model, '--no-progress');
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.lines[0]).toMatchObject({
      trainImages: 31,
      calibrationImages: 31,
      quality: { verdict: 'ok', calibration: 'cross-image' },
      thresholds: { method: 'normal-sigma' },
    });
    expect(existsSync(join(model, 'manifest.json'))).toBe(true);

    const out = join(work, 'out');
    const cracked = join(cookie, 'test', 'cracked', 'anomaly-2.jpg');
    const detected = faultline(
      'detect',
      '--model',
      model,
      cracked,
      join(work, 'missing.jpg'),
      join(projectRoot(), 'package.json'),
      '--out',
      out,
      '--no-progress',
    );
    expect(detected.status).toBe(1); // some inputs failed
    expect(detected.lines).toHaveLength(3);
    expect(detected.lines[0]).toMatchObject({ file: cracked, is_anomalous: true });
    expect(detected.lines[1].error.code).toBe('FILE_NOT_FOUND');
    expect(detected.lines[2].error.code).toBe('UNSUPPORTED_IMAGE');
    const files = await readdir(out);
    expect(files.sort()).toEqual([
      'anomaly-2.json',
      'anomaly-2_bounded.png',
      'anomaly-2_filtered.png',
      'anomaly-2_heatmap.png',
      'anomaly-2_mask.png',
      'anomaly-2_overlay.png',
    ]);
  });

  it('rejects bad options with exit code 2 and says why', () => {
    const run = faultline('detect', '--model', join(work, 'model'), '--threshold', '1.5', 'x.jpg');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--threshold must be a number between 0 and 1');
    const aggregation = faultline('train', cookie, '--out', join(work, 'x'), '--aggregation', '4');
    expect(aggregation.status).toBe(2);
    expect(aggregation.stderr).toContain('--aggregation must be one of 1, 3, 5, 7');
    const normalise = faultline('eval', cookie, '--normalise', 'imagenet');
    expect(normalise.status).toBe(2);
    expect(normalise.stderr).toContain('Allowed choices are backbone, images, auto');
    const growFraction = faultline('eval', cookie, '--grow-fraction', '1');
    expect(growFraction.status).toBe(2);
    expect(growFraction.stderr).toContain('--grow-fraction must be in [0, 1), got "1"');
  });

  it('reports a missing model as a typed JSON error', () => {
    const run = faultline('detect', '--model', join(work, 'nope'), join(cookie, 'test', 'good', 'test-normal-1.jpg'));
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stderr.trim().split('\n')[0]).error.code).toBe('ARTIFACT_NOT_FOUND');
  });

  it('trains on a single image, calibrated on its augmented views, and says the model is uncalibrated', async () => {
    const one = join(work, 'one');
    await mkdir(one);
    await copyFile(join(cookie, 'train', 'good', 'normal-1.jpg'), join(one, 'normal-1.jpg'));
    const run = faultline('train', one, '--out', join(work, 'm1'), '--no-progress');
    expect(run.status, run.stderr).toBe(0);
    expect(run.lines[0]).toMatchObject({
      trainImages: 1,
      quality: { verdict: 'uncalibrated', calibration: 'augmented-views' },
    });
    const detected = faultline(
      'detect',
      '--model',
      join(work, 'm1'),
      join(cookie, 'test', 'good', 'test-normal-1.jpg'),
    );
    expect(detected.status, detected.stderr).toBe(0);
    expect(detected.lines[0].model_quality.verdict).toBe('uncalibrated');
  });

  it('refuses one image with no augmentation allowed, and an empty training folder', async () => {
    const run = faultline('train', join(work, 'one'), '--augment', 'none', '--out', join(work, 'm3'), '--no-progress');
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stderr.trim().split('\n')[0]).error.code).toBe('INVALID_OPTION');
    const broken = join(work, 'one-readable');
    await mkdir(broken);
    await copyFile(join(cookie, 'train', 'good', 'normal-1.jpg'), join(broken, 'normal-1.jpg'));
    await writeFile(join(broken, 'normal-2.jpg'), 'not a jpeg');
    const oneReadable = faultline('train', broken, '--augment', 'none', '--out', join(work, 'm5'), '--no-progress');
    expect(oneReadable.status).toBe(1);
    expect(JSON.parse(oneReadable.stderr.trim().split('\n')[0]).error.code).toBe('DATASET_INVALID');
    const empty = join(work, 'empty');
    await mkdir(empty);
    const none = faultline('train', empty, '--out', join(work, 'm4'), '--no-progress');
    expect(none.status).toBe(1);
    expect(JSON.parse(none.stderr.trim().split('\n')[0]).error.code).toBe('DATASET_INVALID');
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../functions/engine/paths.ts';
import { buildRectangleFinder, FINDER_CLASSES, rectangleImage } from '../engine/object-detection/yolo-graphs.ts';
import { buildZip, GOOD_DATASET } from '../engine/object-detection/zips.ts';

const cli = join(projectRoot(), 'bin', 'faultline.js');

function faultline(...args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot(), timeout: 60_000 });
  const lines = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return { status: run.status, lines, stderr: run.stderr };
}

describe('faultline detect-objects', () => {
  let work: string;
  let model: string;
  let spec: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-detect-objects-'));
    model = join(work, 'finder.onnx');
    spec = join(work, 'spec.json');
    await writeFile(model, buildRectangleFinder('v8', 160, 160));
    const body = {
      input: { name: 'images', width: 160, height: 160 },
      classes: FINDER_CLASSES,
      thresholds: { confidence: 0.1 },
    };
    await writeFile(spec, JSON.stringify(body));
    await writeFile(join(work, 'wide.png'), await rectangleImage(320, 160, { x: 60, y: 30, width: 60, height: 60 }));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('prints boxes per image in its pixels, writes JSON and a PNG with --out, and names the failures in place', async () => {
    const out = join(work, 'out');
    const image = join(work, 'wide.png');
    const run = faultline(
      'detect-objects',
      '--model',
      model,
      '--spec',
      spec,
      image,
      join(work, 'missing.png'),
      spec,
      '--out',
      out,
    );
    expect(run.status, run.stderr).toBe(1); // two inputs failed
    expect(run.lines).toHaveLength(3);
    expect(run.lines[0]).toMatchObject({ file: image, image: { width: 320, height: 160 }, model_type: 'onnx' });
    expect(run.lines[0].objects.map((o: { label: string }) => o.label)).toEqual(['dent', 'stain']);
    expect(run.lines[0].objects[0]).toMatchObject({ x: 60, y: 30, width: 60, height: 60 });
    expect(run.lines[1].error.code).toBe('FILE_NOT_FOUND');
    expect(run.lines[2].error.code).toBe('UNSUPPORTED_IMAGE');
    expect((await readdir(out)).sort()).toEqual(['wide.json', 'wide_bounded.png']);
    expect(await sharp(join(out, 'wide_bounded.png')).metadata()).toMatchObject({
      width: 320,
      height: 160,
      format: 'png',
    });
  });

  it('refuses a spec that does not match the model, naming the shapes, and a missing --spec', async () => {
    const wrong = join(work, 'wrong.json');
    await writeFile(wrong, JSON.stringify({ input: { name: 'images', width: 160, height: 160 }, classes: ['a', 'b'] }));
    const run = faultline('detect-objects', '--model', model, '--spec', wrong, join(work, 'wide.png'));
    expect(run.status).toBe(1);
    const error = JSON.parse(run.stderr.trim().split('\n')[0]).error;
    expect(error.code).toBe('MODEL_SPEC_MISMATCH');
    expect(error.message).toContain('[1, 7, 4]');
    expect(faultline('detect-objects', '--model', model, join(work, 'wide.png')).status).toBe(2);
  });

  it('reports on a dataset ZIP, exits 1 with --strict when it has problems, and refuses a bomb', async () => {
    const zip = join(work, 'data.zip');
    await writeFile(zip, await buildZip(GOOD_DATASET));
    const run = faultline('detect-objects', 'dataset-report', zip, '--strict');
    expect(run.status, run.stderr).toBe(1); // --strict: the dataset has problems
    expect(run.lines[0]).toMatchObject({
      file: zip,
      healthy: false,
      malformed_line_count: 2,
      class_names: ['scratch', 'dent'],
    });
    const bomb = join(work, 'bomb.zip');
    await writeFile(bomb, await buildZip({ 'train/labels/a.txt': Buffer.alloc(8 * 1024 * 1024) }));
    const refused = faultline('detect-objects', 'dataset-report', bomb);
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stderr.trim().split('\n')[0]).error.code).toBe('ARCHIVE_UNSAFE');
  });
});

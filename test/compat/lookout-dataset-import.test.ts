import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip, declareUncompressedSize } from '../engine/object-detection/zips.ts';
import { COOKIE, startCompatRuntime } from './compat-runtime.ts';
import type { LocalRuntime } from '../../functions/local/runtime.ts';
import { MAX_IMPORT_LINES } from '../../functions/service/evaluation/lookout-manifest-import.ts';

type Json = Record<string, any>;

/** A Lookout for Vision dataset as its console exported it: Ground Truth JSON Lines, masks in class colours. */
const CRACK = '#2ca02c';
const colourMap = {
  '0': { 'class-name': 'BACKGROUND', 'hex-color': '#ffffff', confidence: 0 },
  '1': { 'class-name': 'crack', 'hex-color': CRACK, confidence: 0 },
};
const label = (anomalous: boolean) => ({
  'anomaly-label': anomalous ? 1 : 0,
  'anomaly-label-metadata': {
    confidence: 1,
    'job-name': 'labeling-job/anomaly-label',
    'class-name': anomalous ? 'anomaly' : 'normal',
    'human-annotated': 'yes',
    'creation-date': '2024-05-01T10:00:00.000',
    type: 'groundtruth/image-classification',
  },
});
const line = (ref: string, anomalous: boolean, mask?: string) => ({
  'source-ref': ref,
  ...label(anomalous),
  ...(mask
    ? {
        'anomaly-mask-ref': mask,
        'anomaly-mask-ref-metadata': {
          'internal-color-map': colourMap,
          type: 'groundtruth/semantic-segmentation',
          'human-annotated': 'yes',
          'creation-date': '2024-05-01T10:00:00.000',
          'job-name': 'labeling-job/anomaly-mask-ref',
        },
      }
    : {}),
});
const jsonl = (lines: object[]) => lines.map((l) => JSON.stringify(l)).join('\n') + '\n';

/** The cookie ground-truth mask (white on black) in Lookout's form: the crack in its colour on a white background. */
async function colourMaskOf(defect: string): Promise<Buffer> {
  const { data, info } = await sharp(join(COOKIE, 'ground_truth', 'cracked', `${defect}_mask.png`))
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const out = Buffer.alloc(info.width * info.height * 3, 255);
  for (let i = 0; i < info.width * info.height; i++)
    if (data[i * info.channels]! >= 128) out.set([0x2c, 0xa0, 0x2c], i * 3);
  return sharp(out, { raw: { width: info.width, height: info.height, channels: 3 } })
    .png()
    .toBuffer();
}
const cookie = (folder: string, name: string) => readFile(join(COOKIE, ...folder.split('/'), `${name}.jpg`));

describe('importing a Lookout for Vision dataset', () => {
  let runtime: LocalRuntime;
  let projectId: string;
  let stop: () => Promise<void>;
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${runtime.url}${path}`, {
      ...init,
      headers: { 'x-api-key': runtime.apiKey!, ...(init.headers as Record<string, string>) },
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const uploadZip = (zip: Buffer, fields: Record<string, string> = {}) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('archive', new Blob([zip]), 'dataset.zip');
    return api(`/api/v1/projects/${projectId}/lookout-datasets/archive`, { method: 'POST', body: form });
  };
  const fromBucket = (manifest: string, datasetType = 'test') =>
    api(`/api/v1/projects/${projectId}/lookout-datasets/bucket`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ manifest, datasetType }),
    });
  const state = async () => {
    const project = await api(`/api/v1/projects/${projectId}`);
    const set = await api(`/api/v1/projects/${projectId}/evaluation-set`);
    return { imageCount: project.body.imageCount, evaluation: set.body.images };
  };

  beforeAll(async () => {
    const started = await startCompatRuntime('lookout', { FAULTLINE_WORKERS: '1' });
    ({ runtime, projectId, stop } = started);
  }, 60_000);
  afterAll(async () => stop?.());

  it('from a ZIP: normal images become training images, anomalies and masks the evaluation set', async () => {
    // As exported: s3:// references into the old bucket, the files under their keys in the archive.
    const manifest = jsonl([
      line('s3://lookout-old/train/normal/normal-1.jpg', false),
      line('s3://lookout-old/train/normal/normal-2.jpg', false),
      line('s3://lookout-old/train/normal/normal-3.jpg', false),
      line('s3://lookout-old/train/anomaly/anomaly-1.jpg', true, 's3://lookout-old/train/mask/anomaly-1.png'),
      line('s3://lookout-old/train/anomaly/anomaly-2.jpg', true),
    ]);
    const zip = await buildZip({
      'train.manifest': manifest,
      'train/normal/normal-1.jpg': await cookie('train/good', 'normal-1'),
      'train/normal/normal-2.jpg': await cookie('train/good', 'normal-2'),
      'train/normal/normal-3.jpg': await cookie('train/good', 'normal-3'),
      'train/anomaly/anomaly-1.jpg': await cookie('test/cracked', 'anomaly-1'),
      'train/anomaly/anomaly-2.jpg': await cookie('test/cracked', 'anomaly-2'),
      'train/mask/anomaly-1.png': await colourMaskOf('anomaly-1'),
    });
    const res = await uploadZip(zip);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      datasetType: 'train',
      lines: 5,
      trainingImages: 3,
      evaluation: { normal: 0, anomalous: 2, withMask: 1 },
      evaluationSetImages: 2,
      imageCount: 3,
    });
    const set = await api(`/api/v1/projects/${projectId}/evaluation-set`);
    expect(set.body.items.map((i: Json) => [i.line, i.dataset, i.anomalous, i.defect, i.hasMask])).toEqual([
      [4, 'train', true, 'crack', true],
      [5, 'train', true, 'anomaly', false],
    ]);
  }, 60_000);

  it('names every bad line of a ZIP manifest in a 400 and imports nothing', async () => {
    const before = await state();
    const manifest = [
      JSON.stringify(line('s3://old/n.jpg', false)),
      '{"source-ref": "s3://old/a.jpg", "anomaly-label": 1',
      JSON.stringify(line('s3://old/missing.jpg', false)),
      JSON.stringify(line('s3://old/a.jpg', true, 's3://old/small.png')),
      JSON.stringify(line('s3://old/b.jpg', true, 's3://old/blank.png')),
      JSON.stringify(line('s3://old/notimage.jpg', false)),
      JSON.stringify(line('s3://old/../../etc/passwd', false)),
    ].join('\n');
    const small = await sharp({ create: { width: 10, height: 10, channels: 3, background: CRACK } })
      .png()
      .toBuffer();
    const blank = await sharp({ create: { width: 288, height: 384, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const zip = await buildZip({
      'm.jsonl': manifest,
      'n.jpg': await cookie('train/good', 'normal-4'),
      'a.jpg': await cookie('test/cracked', 'anomaly-3'),
      'b.jpg': await cookie('test/cracked', 'anomaly-4'),
      'small.png': small,
      'blank.png': blank,
      'notimage.jpg': 'this is text',
    });
    // The JSON error on line 2 is found before any file is read: a manifest is first checked whole.
    const syntax = await uploadZip(zip);
    expect(syntax.status).toBe(400);
    expect(syntax.body.error.details.lines).toEqual([{ line: 2, reason: 'not valid JSON' }]);
    // Without it, every reference is followed and each bad one named.
    const files = await buildZip({
      'm.jsonl': manifest
        .split('\n')
        .filter((_, i) => i !== 1)
        .join('\n'),
      'n.jpg': await cookie('train/good', 'normal-4'),
      'a.jpg': await cookie('test/cracked', 'anomaly-3'),
      'b.jpg': await cookie('test/cracked', 'anomaly-4'),
      'small.png': small,
      'blank.png': blank,
      'notimage.jpg': 'this is text',
    });
    const res = await uploadZip(files);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const lines: Json[] = res.body.error.details.lines;
    expect(lines.map((l) => l.line)).toEqual([2, 3, 4, 5, 6]);
    expect(lines[0].reason).toMatch(/missing\.jpg: no such object/);
    expect(lines[1].reason).toMatch(/small\.png: the mask is 10x10, its image \d+x\d+/);
    expect(lines[2].reason).toMatch(/blank\.png: the mask has no pixel in any anomaly colour/);
    expect(lines[3].reason).toMatch(/notimage\.jpg/);
    expect(lines[4].reason).toMatch(/not a plain path/);
    expect(await state()).toEqual(before);
    // Not a ZIP; a ZIP without a manifest.
    expect((await uploadZip(Buffer.from('not a zip'))).status).toBe(422);
    const none = await uploadZip(await buildZip({ 'a.jpg': await cookie('test/cracked', 'anomaly-3') }));
    expect([none.status, none.body.error.message]).toEqual([400, expect.stringMatching(/no manifest/)]);
    // A ZIP that says it inflates past what an upload may hold is refused from its directory, before inflating.
    const bomb = await uploadZip(declareUncompressedSize(files, 300 * 1024 * 1024));
    expect([bomb.status, bomb.body.error.code]).toEqual([413, 'ARCHIVE_TOO_LARGE']);
    // More lines than one import (within the request's time) takes: refused from the manifest, before any file is read.
    const long = await uploadZip(
      await buildZip({
        'm.jsonl': jsonl(Array.from({ length: MAX_IMPORT_LINES + 1 }, (_, i) => line(`s3://old/n${i}.jpg`, false))),
      }),
    );
    expect([long.status, long.body.error.code]).toEqual([413, 'TOO_MANY_FILES']);
    expect(long.body.error.message).toContain(`more than ${MAX_IMPORT_LINES}`);
    expect(await state()).toEqual(before);
  }, 60_000);

  it('from the bucket: a test dataset synced under imports/ joins the evaluation set as it was written', async () => {
    // What `aws s3 sync s3://lookout-old s3://BUCKET/imports/{projectId}/lookout-old` leaves.
    const put = (key: string, bytes: Buffer | string) =>
      runtime.services.objects.put(`imports/${projectId}/lookout-old/${key}`, bytes);
    await put('test/normal/t1.jpg', await cookie('test/good', 'test-normal-1'));
    await put('test/normal/t2.jpg', await cookie('test/good', 'test-normal-2'));
    await put('test/anomaly/a5.jpg', await cookie('test/cracked', 'anomaly-5'));
    await put('test/anomaly/a6.jpg', await cookie('test/cracked', 'anomaly-6'));
    await put('test/mask/a5.png', await colourMaskOf('anomaly-5'));
    await put('test/mask/a6.png', await colourMaskOf('anomaly-6'));
    await put(
      'test/output.manifest',
      jsonl([
        line('s3://lookout-old/test/normal/t1.jpg', false),
        line('s3://lookout-old/test/normal/t2.jpg', false),
        line('s3://lookout-old/test/anomaly/a5.jpg', true, 's3://lookout-old/test/mask/a5.png'),
        line('s3://lookout-old/test/anomaly/a6.jpg', true, 's3://lookout-old/test/mask/a6.png'),
      ]),
    );
    // A reference into Faultline's bucket outside the project's imports folder is refused, line by line.
    const bucket = runtime.services.config.FAULTLINE_BUCKET;
    await put('test/escape.manifest', jsonl([line(`s3://${bucket}/datasets/${projectId}/x.jpg`, false)]));
    const before = await state();
    const escape = await fromBucket('s3://lookout-old/test/escape.manifest');
    expect(escape.status).toBe(400);
    expect(escape.body.error.details.lines[0].reason).toMatch(/outside this project's imports folder/);
    expect((await fromBucket('s3://lookout-old/test/nothing.manifest')).status).toBe(404);
    expect(await state()).toEqual(before);

    const res = await fromBucket('s3://lookout-old/test/output.manifest');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      datasetType: 'test',
      lines: 4,
      trainingImages: 0,
      evaluation: { normal: 2, anomalous: 2, withMask: 2 },
      evaluationSetImages: 6,
      imageCount: 3,
    });
  }, 60_000);

  it('after training, the model reports image and pixel metrics on the set, and Lookout DescribeModel F1, precision, recall', async () => {
    const train = await api(`/api/v1/projects/${projectId}/train`, { method: 'POST' });
    expect(train.status, JSON.stringify(train.body)).toBe(202);
    const jobId = train.body.id ?? train.body.job?.id;
    let job: Json = {};
    for (let i = 0; i < 600 && !['SUCCEEDED', 'FAILED'].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 250));
      job = (await api(`/api/v1/jobs/${jobId}`)).body;
    }
    expect(job.status, JSON.stringify(job)).toBe('SUCCEEDED');
    const model = (await api(`/api/v1/projects/${projectId}/models/1`)).body;
    const m = model.metrics;
    expect(m.evaluation).toEqual({ images: 6, good: 2, anomalous: 4, withMask: 3 });
    for (const figure of ['imageAuroc', 'f1', 'precision', 'recall', 'pixelAuroc', 'maskIou']) {
      expect(m[figure], figure).toBeGreaterThanOrEqual(0);
      expect(m[figure], figure).toBeLessThanOrEqual(1);
    }
    // Cracked cookies against normal ones: the pixels of the cracks rank well above the rest.
    expect(m.pixelAuroc).toBeGreaterThan(0.7);
    const described = await fetch(`${runtime.url}/2020-11-20/projects/line-1/models/1`);
    const performance = ((await described.json()) as Json).ModelDescription.Performance;
    expect(performance).toEqual({ F1Score: m.f1, Precision: m.precision, Recall: m.recall });
    const listed = await fetch(`${runtime.url}/2020-11-20/projects/line-1/models`);
    expect(((await listed.json()) as Json).Models[0].Performance).toEqual(performance);
  }, 180_000);

  it('deleting the project removes its imports and its evaluation set', async () => {
    const folders = [`imports/${projectId}/`, `evaluation/${projectId}/`];
    for (const prefix of folders)
      expect((await runtime.services.objects.list(prefix)).objects.length).toBeGreaterThan(0);
    expect((await api(`/api/v1/projects/${projectId}?confirm=line-1`, { method: 'DELETE' })).status).toBe(200);
    for (const prefix of folders) expect((await runtime.services.objects.list(prefix)).objects).toEqual([]);
  });
});

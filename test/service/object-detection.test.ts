import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { runtimeApi } from '../helpers/local-runtime.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectDetectorSpecInput } from '../../functions/engine/object-detection/detector-spec.ts';
import { readStandInCredentials } from '../../functions/local/aws/stand-in-credentials.ts';
import { isolatedRuntimeEnv, loadLocalSettings } from '../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import type { FaultlineEvent } from '../../functions/service/ports/event-publisher.ts';
import { buildRectangleFinder, FINDER_CLASSES, rectangleImage } from '../engine/object-detection/yolo-graphs.ts';
import { buildTestClassifier, testClassifierSpec } from '../helpers/classifier-models.ts';
import { buildZip, GOOD_DATASET, renameInZip } from '../engine/object-detection/zips.ts';
import { waitFor } from '../helpers/wait-for.ts';

const finderSpec = (): ObjectDetectorSpecInput => ({
  input: { name: 'images', width: 160, height: 160 },
  classes: FINDER_CLASSES,
  thresholds: { confidence: 0.1, iou: 0.45 },
});

/** Object-detection projects end to end: uploads (and bad ones), detect, batch, drop folder, results, kinds, 501. */
describe('object-detection projects', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let projectId: string;
  const events: FaultlineEvent[] = [];
  const { api, createProject } = runtimeApi(() => runtime);
  const form = (files: Record<string, [Uint8Array | string, string]>, fields: Record<string, string> = {}) => {
    const f = new FormData();
    for (const [name, value] of Object.entries(fields)) f.append(name, value);
    for (const [field, [content, name]] of Object.entries(files)) f.append(field, new Blob([content]), name);
    return f;
  };
  const upload = (id: string, model: Uint8Array | string, spec: unknown) =>
    api(`/api/v1/projects/${id}/models/upload`, {
      method: 'POST',
      body: form({
        model: [model, 'model.onnx'],
        spec: [typeof spec === 'string' ? spec : JSON.stringify(spec), 'spec.json'],
      }),
    });
  // A wide image: the detector letterboxes it and answers in its own pixels.
  const wide = () => rectangleImage(320, 160, { x: 60, y: 30, width: 60, height: 60 });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-objdet-'));
    runtime = await startLocalRuntime(
      loadLocalSettings({ ...isolatedRuntimeEnv(dataDir), FAULTLINE_ACCESS_LOG: 'false' }),
      silentLog,
    );
    const publish = runtime.services.events.publish.bind(runtime.services.events);
    runtime.services.events.publish = async (event, project) => {
      events.push(event);
      return publish(event, project);
    };
    projectId = await createProject('line 4 parts', 'object-detection');
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('has no answer before a model is uploaded: 409, never a made-up one', async () => {
    const r = await api(`/api/v1/projects/${projectId}/detect-objects`, {
      method: 'POST',
      body: form({ file: [await wide(), 'wide.png'] }),
    });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('NO_ACTIVE_MODEL');
  });

  it('refuses every bad upload with a clear 4xx naming what is wrong, and stores nothing', async () => {
    const notOnnx = await upload(projectId, 'not a model', finderSpec());
    expect(notOnnx.status).toBe(415);
    expect(notOnnx.body.error.code).toBe('MODEL_NOT_ONNX');

    // A classifier's spec is not a detector's: 400 naming the fields.
    const wrongSpec = await upload(projectId, buildRectangleFinder('v8', 160, 160), testClassifierSpec());
    expect(wrongSpec.status).toBe(400);
    expect(wrongSpec.body.error.message).toContain('object-detection');

    const wrongSize = await upload(projectId, buildRectangleFinder('v8', 160, 160), {
      ...finderSpec(),
      input: { name: 'images', width: 320, height: 320 },
    });
    expect(wrongSize.status).toBe(422);
    expect(wrongSize.body.error.code).toBe('MODEL_SPEC_MISMATCH');
    expect(wrongSize.body.error.message).toMatch(/images.*160.*320|320.*160/);

    // Five classes against an output made for three: the output's shape is named.
    const wrongClasses = await upload(projectId, buildRectangleFinder('v8', 160, 160), {
      ...finderSpec(),
      classes: [...FINDER_CLASSES, 'crack', 'chip'],
    });
    expect(wrongClasses.status).toBe(422);
    expect(wrongClasses.body.error.code).toBe('MODEL_SPEC_MISMATCH');
    expect(wrongClasses.body.error.message).toContain('output0');

    const list = await api(`/api/v1/projects/${projectId}/uploaded-models`);
    expect(list.body.items).toEqual([]);
  });

  it('serves an uploaded YOLO model: boxes in the image’s pixels, the PNG, the stored result and its event', async () => {
    const up = await upload(projectId, buildRectangleFinder('v8', 160, 160), finderSpec());
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ kind: 'object-detection', version: 1, active: true, evaluation: null });
    expect(up.body.spec.thresholds).toEqual({ confidence: 0.1, iou: 0.45 });

    const r = await api(`/api/v1/projects/${projectId}/detect-objects`, {
      method: 'POST',
      body: form({ file: [await wide(), 'wide.png'] }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ model_version: 'v1', model_type: 'onnx', object_count: 2 });
    expect(r.body.image).toEqual({ width: 320, height: 160 });
    expect(r.body.objects.map((o: any) => o.label)).toEqual(['dent', 'stain']);
    expect(r.body.objects[0]).toMatchObject({ x: 60, y: 30, width: 60, height: 60 });
    expect(r.body.processing_time).toBeGreaterThan(0);

    const png = await fetch(r.body.rendering_url);
    expect(png.status).toBe(200);
    const meta = await sharp(Buffer.from(await png.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 320, height: 160 });

    const stored = await api(`/api/v1/projects/${projectId}/object-detections/${r.body.result_id}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ batchId: 'api', source: { kind: 'api', name: 'wide.png' } });
    expect(stored.body.result.objects).toEqual(r.body.objects);
    expect(stored.body.rendering_url).toMatch(/^http:\/\/127\.0\.0\.1/);

    const event = events.find((e) => e.type === 'Objects Detected' && e.detail.resultId === r.body.result_id);
    expect(event?.detail).toMatchObject({ object_count: 2, labels: { dent: 1, stain: 1 }, model_version: 'v1' });
  });

  it('takes confidence and IoU per request, and refuses ones out of range', async () => {
    // The stain box scores 0.8 of the dent's: a threshold between them keeps the dent only.
    const first = await api(`/api/v1/projects/${projectId}/detect-objects`, {
      method: 'POST',
      body: form({ file: [await wide(), 'wide.png'] }),
    });
    const between = (first.body.objects[0].confidence + first.body.objects[1].confidence) / 2;
    const strict = await api(`/api/v1/projects/${projectId}/detect-objects`, {
      method: 'POST',
      body: form({ file: [await wide(), 'wide.png'] }, { confidence: String(between) }),
    });
    expect(strict.body.objects.map((o: any) => o.label)).toEqual(['dent']);
    expect(strict.body.thresholds.confidence).toBeCloseTo(between, 6);
    const bad = await api(`/api/v1/projects/${projectId}/detect-objects`, {
      method: 'POST',
      body: form({ file: [await wide(), 'wide.png'] }, { confidence: '1.5' }),
    });
    expect(bad.status).toBe(400);
  });

  it('answers a batch per image, an unreadable one with its error', async () => {
    const r = await api(`/api/v1/projects/${projectId}/detect-objects/batch`, {
      method: 'POST',
      body: (() => {
        const f = new FormData();
        f.append('files', new Blob([new Uint8Array(0)]), 'placeholder');
        return f;
      })(),
    });
    // An empty part is refused as a whole or as an entry; either way never a 500.
    expect(r.status).toBeLessThan(500);
    const f = new FormData();
    f.append('files', new Blob([await wide()]), 'a.png');
    f.append('files', new Blob(['not an image']), 'b.png');
    const batch = await api(`/api/v1/projects/${projectId}/detect-objects/batch`, { method: 'POST', body: f });
    expect(batch.status).toBe(200);
    expect(batch.body.failed_count).toBe(1);
    expect(batch.body.results[0]).toMatchObject({ filename: 'a.png', object_count: 2 });
    expect(batch.body.results[1]).toMatchObject({ filename: 'b.png', error: { code: 'UNSUPPORTED_IMAGE' } });
  });

  it('detects in images dropped into the inbox and stores their results, JSON and PNG', async () => {
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: runtime.s3Endpoint,
      forcePathStyle: true,
      credentials: (await readStandInCredentials(runtime.dataDir))!,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: 'faultline',
        Key: `inbox/${projectId}/line-4/part.png`,
        Body: await wide(),
        ContentType: 'image/png',
      }),
    );
    const record = await waitFor('the drop-folder detection', async () => {
      const page = await api(`/api/v1/projects/${projectId}/object-detections?limit=50`);
      return page.body.items.find((r: any) => r.source.kind === 'inbox');
    });
    expect(record).toMatchObject({
      batchId: 'line-4',
      resultKey: `results/${projectId}/line-4/part.png.json`,
      renderingKey: `results/${projectId}/line-4/part.png/objects.png`,
    });
    expect(record.result.objects.map((o: any) => o.label)).toEqual(['dent', 'stain']);
    expect(record.image_url).toBeDefined();
    const json = await runtime.services.objects.get(record.resultKey);
    expect(JSON.parse(Buffer.from(json!).toString('utf8')).object_count).toBe(2);
    expect(await runtime.services.objects.head(record.renderingKey)).toBeDefined();
  });

  it('keeps kinds apart: 409 WRONG_PROJECT_KIND both ways, and 501 with the reason for training', async () => {
    const image = await wide();
    const anomaly = await createProject('anomaly line', 'anomaly');
    const classifier = await createProject('classifier', 'classification');
    for (const [id, path] of [
      [projectId, 'detect'],
      [projectId, 'classify'],
      [anomaly, 'detect-objects'],
      [classifier, 'detect-objects'],
    ]) {
      const r = await api(`/api/v1/projects/${id}/${path}`, { method: 'POST', body: form({ file: [image, 'x.png'] }) });
      expect(r.status, `${path} on ${id}`).toBe(409);
      expect(r.body.error.code).toBe('WRONG_PROJECT_KIND');
    }
    expect((await api(`/api/v1/projects/${anomaly}/object-detections`)).status).toBe(409);
    // A classifier uploaded to a detector project fails on its spec; the project kind decides the schema.
    expect((await upload(classifier, buildTestClassifier(), finderSpec())).status).toBe(400);

    const train = await api(`/api/v1/projects/${projectId}/train`, { method: 'POST' });
    expect(train.status).toBe(501);
    expect(train.body.error.code).toBe('NOT_IMPLEMENTED');
    expect(train.body.error.message).toContain('deep-learning trainer');
    expect(train.body.error.message).toContain(`/api/v1/projects/${projectId}/models/upload`);
  });

  describe('YOLO dataset ZIPs', () => {
    const uploadZip = (id: string, zip: Uint8Array) =>
      api(`/api/v1/projects/${id}/yolo-datasets`, { method: 'POST', body: form({ dataset: [zip, 'parts.zip'] }) });

    it('stores a good ZIP and returns its health report, named by the active model’s classes, retrievable later', async () => {
      const r = await uploadZip(projectId, await buildZip(GOOD_DATASET));
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ projectId, name: 'parts.zip' });
      // The project's active model (uploaded above) names three classes; data.yaml's two are not used.
      expect(r.body.report).toMatchObject({ class_names: FINDER_CLASSES, class_names_source: 'given', healthy: false });
      expect(r.body.report.splits.train).toMatchObject({
        images: 3,
        images_without_labels: ['train/images/c.png'],
        labels_without_images: ['train/labels/d.txt'],
      });
      expect(r.body.report.malformed_line_count).toBeGreaterThan(0);
      expect(await runtime.services.objects.head(r.body.zipKey)).toBeDefined();
      const again = await api(`/api/v1/projects/${projectId}/yolo-datasets/${r.body.datasetId}`);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(r.body);
      const missing = await api(
        `/api/v1/projects/${projectId}/yolo-datasets/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`,
      );
      expect(missing.status).toBe(404);
    });

    it('refuses a zip bomb, traversal, a non-ZIP and a ZIP without the layout with a 4xx, storing nothing', async () => {
      const before = (await runtime.services.objects.list(`yolo-datasets/${projectId}/`)).objects.length;
      const bomb = await uploadZip(projectId, await buildZip({ 'train/labels/a.txt': Buffer.alloc(8 * 1024 * 1024) }));
      expect(bomb.status).toBe(422);
      expect(bomb.body.error).toMatchObject({ code: 'ARCHIVE_UNSAFE' });
      expect(bomb.body.error.message).toContain('zip bomb');
      const traversal = renameInZip(
        await buildZip({ 'train/images/a.jpg': 'x', 'xx/evil.txt': 'x' }),
        'xx/evil.txt',
        '../evil.txt',
      );
      const escaped = await uploadZip(projectId, traversal);
      expect(escaped.status).toBe(422);
      expect(escaped.body.error.message).toContain('../evil.txt');
      const notZip = await uploadZip(projectId, Buffer.from('not a zip'));
      expect(notZip.status).toBe(422);
      expect(notZip.body.error.code).toBe('ARCHIVE_INVALID');
      const noLayout = await uploadZip(projectId, await buildZip({ 'notes.txt': 'hello' }));
      expect(noLayout.status).toBe(400);
      expect((await runtime.services.objects.list(`yolo-datasets/${projectId}/`)).objects.length).toBe(before);
      const anomaly = await createProject('zip on anomaly', 'anomaly');
      expect((await uploadZip(anomaly, await buildZip(GOOD_DATASET))).status).toBe(409);
    });
  });
});

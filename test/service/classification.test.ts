import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runtimeApi } from '../helpers/local-runtime.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStandInCredentials } from '../../functions/local/aws/stand-in-credentials.ts';
import { loadLocalSettings, isolatedRuntimeEnv } from '../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { sharedDir } from '../../functions/engine/paths.ts';
import { buildTestClassifier, colourPng, testClassifierSpec } from '../helpers/classifier-models.ts';
import { waitFor } from '../helpers/wait-for.ts';

const MAX_MODEL_BYTES = 8192;
const tile = join(sharedDir(), 'datasets', 'magnetic_tile', 'test');

/** Classification projects end to end: uploads (and every bad one), classify, batch, drop folder, compatibility. */
describe('classification projects', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let projectId: string;
  let tilesClassifier: string | undefined;
  const { api, createProject } = runtimeApi(() => runtime);
  const form = (files: Record<string, [Uint8Array | string, string]>) => {
    const f = new FormData();
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

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-classify-'));
    runtime = await startLocalRuntime(
      loadLocalSettings({
        ...isolatedRuntimeEnv(dataDir),
        FAULTLINE_ACCESS_LOG: 'false',
        FAULTLINE_MAX_MODEL_BYTES: String(MAX_MODEL_BYTES),
      }),
      silentLog,
    );
    projectId = await createProject('skin', 'classification');
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('has no answer before a model is uploaded: 409, never a made-up one', async () => {
    const r = await api(`/api/v1/projects/${projectId}/classify`, {
      method: 'POST',
      body: form({ file: [await colourPng(255, 0, 0), 'red.png'] }),
    });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('NO_ACTIVE_MODEL');
  });

  it('refuses every bad upload with a clear 4xx and stores nothing', async () => {
    const notOnnx = await upload(projectId, 'just some text, not a model', testClassifierSpec());
    expect(notOnnx.status).toBe(415);
    expect(notOnnx.body.error.code).toBe('MODEL_NOT_ONNX');
    const tflite = new Uint8Array(256);
    tflite.set(new TextEncoder().encode('TFL3'), 4);
    const t = await upload(projectId, tflite, testClassifierSpec());
    expect(t.status).toBe(415);
    expect(t.body.error.message).toContain('no maintained TFLite runtime');
    const shapes = await upload(projectId, buildTestClassifier({ sharedColumns: 4 }), testClassifierSpec());
    expect(shapes.status).toBe(422);
    expect(shapes.body.error.code).toBe('MODEL_SPEC_MISMATCH');
    expect(shapes.body.error.message).toContain('head conditions_detected');
    expect(shapes.body.error.message).toContain('[1, 4]');
    const size = await upload(projectId, buildTestClassifier({ size: 32 }), testClassifierSpec());
    expect(size.status).toBe(422);
    expect(size.body.error.message).toContain('[batch, 3, 32, 32]');
    const notJson = await upload(projectId, buildTestClassifier(), '{ heads: ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toContain('not JSON');
    const badSpec: any = testClassifierSpec();
    badSpec.heads[1].slice = { start: 0, end: 3 };
    const invalid = await upload(projectId, buildTestClassifier(), badSpec);
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.message).toContain('heads.1.slice');
    const huge = await upload(projectId, new Uint8Array(MAX_MODEL_BYTES + 1), testClassifierSpec());
    expect(huge.status).toBe(413);
    const anomalyProject = await createProject('cookies', 'anomaly');
    const wrongKind = await upload(anomalyProject, buildTestClassifier(), testClassifierSpec());
    expect(wrongKind.status).toBe(409);
    expect(wrongKind.body.error.code).toBe('WRONG_PROJECT_KIND');
    expect((await api(`/api/v1/projects/${projectId}/uploaded-models`)).body.items).toEqual([]);
  });

  it('stores a checked model as the active version and classifies with it', async () => {
    const up = await upload(projectId, buildTestClassifier(), testClassifierSpec());
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ version: 1, kind: 'classification', type: 'onnx', source: 'upload', active: true });
    expect(up.body.file.opset).toBe(13);
    expect(up.body.spec.heads.map((h: any) => h.name)).toEqual(['skin_type', 'hair_type', 'conditions_detected']);
    const r = await api(`/api/v1/projects/${projectId}/classify`, {
      method: 'POST',
      body: form({ file: [await colourPng(0, 255, 0), 'green.png'] }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ model_version: 'v1', model_type: 'onnx' });
    expect(r.body.heads.skin_type.label).toBe('normal');
    expect(r.body.heads.hair_type.label).toBe('curly');
    expect(r.body.heads.conditions_detected.labels).toEqual(['dryness']);
    expect(Object.keys(r.body.heads.skin_type.scores)).toEqual(['dry', 'normal', 'oily']);
    expect(r.body.processing_time).toBeGreaterThan(0);
    const stored = await api(`/api/v1/projects/${projectId}/classifications/${r.body.result_id}`);
    expect(stored.body.result.heads.skin_type.label).toBe('normal');
    // The anomaly routes are not this kind's
    const detect = await api(`/api/v1/projects/${projectId}/detect`, {
      method: 'POST',
      body: form({ file: [await colourPng(0, 255, 0), 'green.png'] }),
    });
    expect(detect.status).toBe(409);
    expect(detect.body.error.code).toBe('WRONG_PROJECT_KIND');
    expect((await api(`/api/v1/projects/${projectId}/models`)).status).toBe(409);
  });

  it('classifies a batch, with an entry for an image it cannot read', async () => {
    const f = new FormData();
    f.append('files', new Blob([await colourPng(255, 0, 0)]), 'red.png');
    f.append('files', new Blob(['not an image']), 'broken.png');
    const r = await api(`/api/v1/projects/${projectId}/classify/batch`, { method: 'POST', body: f });
    expect(r.status).toBe(200);
    expect(r.body.failed_count).toBe(1);
    expect(r.body.results[0].heads.skin_type.label).toBe('dry');
    expect(r.body.results[1].error.code).toBe('UNSUPPORTED_IMAGE');
  });

  const s3Client = async () =>
    new S3Client({
      region: 'us-east-1',
      endpoint: runtime.s3Endpoint,
      forcePathStyle: true,
      credentials: (await readStandInCredentials(runtime.dataDir))!,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });

  it('classifies images dropped into the inbox and stores their results', async () => {
    const s3 = await s3Client();
    await s3.send(
      new PutObjectCommand({
        Bucket: 'faultline',
        Key: `inbox/${projectId}/line-1/blue.png`,
        Body: await colourPng(0, 0, 255),
        ContentType: 'image/png',
      }),
    );
    const record = await waitFor('the drop-folder classification', async () => {
      const page = await api(`/api/v1/projects/${projectId}/classifications?limit=50`);
      return page.body.items.find((r: any) => r.source.kind === 'inbox');
    });
    expect(record).toMatchObject({ batchId: 'line-1', resultKey: `results/${projectId}/line-1/blue.png.json` });
    expect(record.result.heads.skin_type.label).toBe('oily');
    expect(record.result.heads.conditions_detected.labels).toEqual([]);
  });

  it('answers the older service’s /api/v1/analyze routes as its clients read them', async () => {
    const unset = await fetch(`${runtime.url}/api/v1/analyze/health`, { headers: { 'x-api-key': runtime.apiKey! } });
    expect(unset.status).toBe(503);
    runtime.services.config.FAULTLINE_DEFAULT_CLASSIFIER_PROJECT = projectId;
    // An old client: plain multipart with the field "file", reading the old field names.
    const f = new FormData();
    f.append('file', new Blob([await colourPng(255, 0, 0)], { type: 'image/png' }), 'face.png');
    const response = await fetch(`${runtime.url}/api/v1/analyze/image`, {
      method: 'POST',
      headers: { 'x-api-key': runtime.apiKey! },
      body: f,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body.skin_type).toBe('dry');
    expect(body.hair_type).toBe('straight');
    expect(body.conditions_detected).toEqual(['acne', 'redness']);
    expect(body.confidence_scores.skin_type).toBeGreaterThan(0.9);
    expect(Object.keys(body.confidence_scores.conditions_detected)).toEqual(['acne', 'redness']);
    expect(body).toMatchObject({ model_version: 'v1', model_type: 'onnx' });
    const health = await fetch(`${runtime.url}/api/v1/analyze/health`, { headers: { 'x-api-key': runtime.apiKey! } });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'healthy',
      model_loaded: true,
      model_version: 'v1',
      model_type: 'onnx',
    });
  });

  it.skipIf(!existsSync(tile))(
    'trains a classifier from class folders in the dataset, stored and activated as a version',
    async () => {
      const id = await createProject('tiles', 'classification');
      tilesClassifier = id;
      const s3 = await s3Client();
      for (const c of ['blowhole', 'uneven'])
        for (const f of readdirSync(join(tile, c)).sort().slice(0, 4))
          await s3.send(
            new PutObjectCommand({
              Bucket: 'faultline',
              Key: `datasets/${id}/${c}/${f}`,
              Body: await readFile(join(tile, c, f)),
              ContentType: 'image/jpeg',
            }),
          );
      await waitFor('eight dataset images', async () => {
        const p = await api(`/api/v1/projects/${id}`);
        return p.body.imageCount === 8 ? true : undefined;
      });
      const train = await api(`/api/v1/projects/${id}/train`, { method: 'POST', headers: { 'idempotency-key': 'k1' } });
      expect(train.status).toBe(202);
      const job = await waitFor(
        'the training job',
        async () => {
          const j = await api(`/api/v1/jobs/${train.body.id}`);
          return ['SUCCEEDED', 'FAILED'].includes(j.body.status) ? j.body : undefined;
        },
        120_000,
      );
      expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
      expect(job.output).toMatchObject({ modelVersion: 1, images: 8 });
      const models = await api(`/api/v1/projects/${id}/uploaded-models`);
      expect(models.body.items[0]).toMatchObject({ version: 1, source: 'training', active: true, jobId: job.id });
      expect(models.body.items[0].evaluation).toMatchObject({ folds: 5, images: 8, classes: ['blowhole', 'uneven'] });
      const f = new FormData();
      f.append(
        'file',
        new Blob([await readFile(join(tile, 'uneven', readdirSync(join(tile, 'uneven')).sort()[0]))]),
        'u.jpg',
      );
      const r = await api(`/api/v1/projects/${id}/classify`, { method: 'POST', body: f });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body.heads.class.scores)).toEqual(['blowhole', 'uneven']);
    },
    180_000,
  );

  it.skipIf(!existsSync(tile))(
    'names each anomalous region’s defect type with a linked classifier',
    async () => {
      expect(tilesClassifier).toBeDefined();
      const anomaly = await createProject('tiles-anomaly', 'anomaly');
      const link = (classifierProjectId: string | null) =>
        api(`/api/v1/projects/${anomaly}/defect-classifier`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ classifierProjectId }),
        });
      const wrong = await link(anomaly);
      expect(wrong.status).toBe(409);
      expect(wrong.body.error.code).toBe('WRONG_PROJECT_KIND');
      const good = join(tile, '..', 'train', 'good');
      const f = new FormData();
      for (const name of readdirSync(good).sort().slice(0, 8))
        f.append('files', new Blob([await readFile(join(good, name))]), name);
      expect((await api(`/api/v1/projects/${anomaly}/images`, { method: 'POST', body: f })).status).toBe(200);
      const train = await api(`/api/v1/projects/${anomaly}/train`, { method: 'POST' });
      const job = await waitFor(
        'anomaly training',
        async () => {
          const j = await api(`/api/v1/jobs/${train.body.id}`);
          return ['SUCCEEDED', 'FAILED'].includes(j.body.status) ? j.body : undefined;
        },
        150_000,
      );
      expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
      expect((await link(tilesClassifier!)).body).toEqual({ projectId: anomaly, defectClassifier: tilesClassifier });
      const detect = async (file: string) => {
        const body = new FormData();
        body.append('file', new Blob([await readFile(file)]), 'tile.jpg');
        body.append('return_visualizations', 'false');
        body.append('threshold', '0.3'); // few training images: a lower threshold so that regions surely appear
        return api(`/api/v1/projects/${anomaly}/detect`, { method: 'POST', body });
      };
      const blowholes = readdirSync(join(tile, 'blowhole')).sort();
      let boxes: any[] = [];
      for (const name of blowholes.slice(0, 6)) {
        const r = await detect(join(tile, 'blowhole', name));
        expect(r.status).toBe(200);
        boxes = boxes.concat(r.body.bounding_boxes);
        if (r.body.bounding_boxes.length > 0) expect(r.body.defect_type_model).toBe(`${tilesClassifier}/v1`);
      }
      expect(boxes.length).toBeGreaterThan(0);
      for (const box of boxes) {
        expect(['blowhole', 'uneven']).toContain(box.defect_type);
        expect(box.defect_type_confidence).toBeGreaterThanOrEqual(0.5);
      }
      // A linked classifier without a model: detections with regions fail, never guess
      const empty = await createProject('no-model', 'classification');
      await link(empty);
      const failures = await Promise.all(blowholes.slice(0, 6).map((n) => detect(join(tile, 'blowhole', n))));
      expect(failures.some((r) => r.status === 409 && r.body.error.code === 'NO_ACTIVE_MODEL')).toBe(true);
    },
    240_000,
  );

  it('refuses a stored model file that no longer matches the digest recorded at upload', async () => {
    const up = await upload(projectId, buildTestClassifier(), testClassifierSpec());
    expect(up.status).toBe(201);
    // Changed behind the service's back before any process loaded it: never served.
    await runtime.services.objects.put(
      `${up.body.artifactPrefix}model.onnx`,
      buildTestClassifier({ size: 16, opset: 14 }),
      'application/octet-stream',
    );
    const r = await api(`/api/v1/projects/${projectId}/classify`, {
      method: 'POST',
      body: form({ file: [await colourPng(255, 0, 0), 'red.png'] }),
    });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('MODEL_UNUSABLE');
    expect(r.body.error.message).toContain('digest');
    const back = await api(`/api/v1/projects/${projectId}/uploaded-models/1/activate`, { method: 'POST' });
    expect(back.body).toMatchObject({ version: 1, active: true });
  });
});

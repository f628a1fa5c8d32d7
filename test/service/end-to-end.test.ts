import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../functions/service/store/table-definition.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDir } from '../../functions/engine/paths.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { loadLocalSettings, isolatedRuntimeEnv } from '../../functions/local/local-settings.ts';
import { silentLog } from '../../functions/service/log.ts';
import { tableOf } from '../helpers/table.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { readStandInCredentials } from '../../functions/local/aws/stand-in-credentials.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');

/** The whole local service through HTTP and S3, as a user drives it. */
describe.skipIf(!existsSync(cookie))('Faultline service end to end', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let api: (path: string, init?: RequestInit) => Promise<{ status: number; body: any }>;
  let projectId: string;

  const start = async () => {
    const settings = loadLocalSettings({
      ...isolatedRuntimeEnv(dataDir),
      FAULTLINE_ACCESS_LOG: 'false',
    });
    runtime = await startLocalRuntime(settings, silentLog);
    api = async (path, init) => {
      const response = await fetch(`${runtime.url}${path}`, {
        ...init,
        headers: { 'x-api-key': runtime.apiKey!, ...(init?.headers as Record<string, string>) },
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-e2e-'));
    await start();
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const form = async (field: string, files: string[], extra: Record<string, string> = {}) => {
    const body = new FormData();
    for (const f of files)
      body.append(field, new Blob([await readFile(f)], { type: 'image/jpeg' }), f.split('/').pop());
    for (const [k, v] of Object.entries(extra)) body.append(k, v);
    return body;
  };

  it('creates a project, takes its normal images and trains a model', async () => {
    const created = await api('/api/v1/projects', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Cookies line 1' }),
    });
    expect(created.status).toBe(201);
    projectId = created.body.id;
    expect(created.body.webhookSecret).toMatch(/^[\w-]{20,}$/);

    const train = join(cookie, 'train', 'good');
    const files = readdirSync(train).map((f) => join(train, f));
    const uploaded = await api(`/api/v1/projects/${projectId}/images`, {
      method: 'POST',
      body: await form('files', [...files, join(process.cwd(), 'package.json')]),
    });
    expect(uploaded.status).toBe(200);
    expect(uploaded.body.accepted).toHaveLength(31);
    expect(uploaded.body.rejected).toEqual([
      expect.objectContaining({ name: 'package.json', code: 'UNSUPPORTED_IMAGE' }),
    ]);
    expect(uploaded.body.imageCount).toBe(31);

    const job = await api(`/api/v1/projects/${projectId}/train`, {
      method: 'POST',
      headers: { 'idempotency-key': 'first-training' },
    });
    expect(job.status).toBe(202);
    const again = await api(`/api/v1/projects/${projectId}/train`, {
      method: 'POST',
      headers: { 'idempotency-key': 'first-training' },
    });
    expect(again.body.id).toBe(job.body.id); // a retried request makes no second job

    const done = await waitFor('training', async () => {
      const j = await api(`/api/v1/jobs/${job.body.id}`);
      return j.body.status === 'SUCCEEDED' || j.body.status === 'FAILED' ? j.body : undefined;
    });
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 1,
      output: { modelVersion: 1, trainImages: 31, quality: { verdict: 'ok' } },
    });
    const info = await api(`/api/v1/projects/${projectId}/model-info`);
    expect(info.body).toMatchObject({
      model_type: 'PatchCore',
      model_version: 'v1',
      backbone: 'mobilenetv2-12-int8',
      training_images: 31,
      quality: { verdict: 'ok', calibration: 'cross-image' },
    });
  });

  it('detects a cracked and a good cookie synchronously', async () => {
    const cracked = await api(`/api/v1/projects/${projectId}/detect`, {
      method: 'POST',
      body: await form('file', [join(cookie, 'test', 'cracked', 'anomaly-1.jpg')]),
    });
    expect(cracked.status).toBe(200);
    expect(cracked.body).toMatchObject({ is_anomalous: true, model_version: 'v1' });
    expect(['Overloway', 'Faulty']).toContain(cracked.body.classification);
    expect(cracked.body.bounding_boxes.length).toBeGreaterThan(0);
    const box = cracked.body.bounding_boxes[0];
    // anomaly-1's crack lies within x 68..178, y 192..287 of the 288 x 384 image
    expect(box.x).toBeLessThan(178);
    expect(box.x + box.width).toBeGreaterThan(68);
    expect(box.y).toBeLessThan(287);
    expect(box.y + box.height).toBeGreaterThan(192);
    const png = await fetch(cracked.body.visualizations.bounded_url);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect((await png.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    const good = await api(`/api/v1/projects/${projectId}/detect`, {
      method: 'POST',
      body: await form('file', [join(cookie, 'test', 'good', 'test-normal-3.jpg')], { return_visualizations: 'false' }),
    });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ is_anomalous: false, bounding_boxes: [], visualizations: null });
    expect(good.body.anomaly_score).toBeLessThan(0.5);
  });

  it('detects the images dropped into the inbox and lists their results', async () => {
    const { s3 } = {
      s3: new S3Client({
        region: 'us-east-1',
        endpoint: runtime.s3Endpoint,
        forcePathStyle: true,
        credentials: (await readStandInCredentials(runtime.dataDir))!,
        requestChecksumCalculation: 'WHEN_REQUIRED',
      }),
    };
    const drops = ['cracked/anomaly-2.jpg', 'good/test-normal-2.jpg', 'cracked/anomaly-3.jpg'];
    for (const [i, f] of drops.entries()) {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'faultline',
          Key: `inbox/${projectId}/belt 7/photo ${i}.jpg`,
          Body: await readFile(join(cookie, 'test', f)),
          ContentType: 'image/jpeg',
        }),
      );
    }
    const summary = await waitFor('three drop-folder results', async () => {
      const b = await api(`/api/v1/projects/${projectId}/batches/${encodeURIComponent('belt 7')}`);
      return b.body.total_images === 3 ? b.body : undefined;
    });
    expect(summary).toMatchObject({ total_images: 3, faulty_count: 2, normal_count: 1 });
    const anomalous = await api(`/api/v1/projects/${projectId}/results?anomalous=true&limit=10`);
    const names = anomalous.body.items
      .filter((r: any) => r.batchId === 'belt 7')
      .map((r: any) => r.source.name)
      .sort();
    expect(names).toEqual(['belt 7/photo 0.jpg', 'belt 7/photo 2.jpg']);
    // 'since' given to the second (no milliseconds) still includes results from within that second
    const first = anomalous.body.items.find((r: any) => r.batchId === 'belt 7');
    const since = await api(
      `/api/v1/projects/${projectId}/results?limit=100&since=${encodeURIComponent(first.createdAt.replace(/\.\d{3}Z$/, 'Z'))}`,
    );
    expect(since.body.items.map((r: any) => r.id)).toContain(first.id);
    expect(since.body.items.every((r: any) => r.createdAt >= first.createdAt.slice(0, 19))).toBe(true);
    // stored results expire through the table's TTL after the retention period (90 days by default)
    const item = await (
      await tableOf(runtime)
    ).db.send(new GetCommand({ TableName: 'faultline', Key: keys.result(projectId, first.id) }));
    expect(item.Item?.expiresAt).toBe(Math.floor(Date.parse(first.createdAt) / 1000) + 90 * 86_400);
    const json = await s3.send(
      new (await import('@aws-sdk/client-s3')).GetObjectCommand({
        Bucket: 'faultline',
        Key: `results/${projectId}/belt 7/photo 0.jpg.json`,
      }),
    );
    expect(JSON.parse(await json.Body!.transformToString())).toMatchObject({ is_anomalous: true });
  });

  it('keeps projects, models and results across a restart', async () => {
    await runtime.stop();
    await start();
    const project = await api(`/api/v1/projects/${projectId}`);
    expect(project.body).toMatchObject({ imageCount: 31, activeModelVersion: 1 });
    const results = await api(`/api/v1/projects/${projectId}/results?limit=100`);
    expect(results.body.items).toHaveLength(5);
    const detect = await api(`/api/v1/projects/${projectId}/detect`, {
      method: 'POST',
      body: await form('file', [join(cookie, 'test', 'cracked', 'anomaly-4.jpg')], { return_visualizations: 'false' }),
    });
    expect(detect.body.is_anomalous).toBe(true);
  });

  it('answers bad requests with a JSON error that says what is wrong', async () => {
    const noName = await api('/api/v1/projects', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": 5}',
    });
    expect(noName.status).toBe(400);
    expect(noName.body.error.code).toBe('VALIDATION_FAILED');
    const malformed = await api('/api/v1/projects', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(malformed.body.error.code).toBe('MALFORMED_JSON');
    const text = await api(`/api/v1/projects/${projectId}/detect`, {
      method: 'POST',
      body: await form('file', [join(process.cwd(), 'README.md')]),
    });
    expect([text.status, text.body.error.code]).toEqual([415, 'UNSUPPORTED_IMAGE']);
    const missing = await api(`/api/v1/projects/${projectId}/detect`, {
      method: 'POST',
      body: await form('image', [join(cookie, 'test', 'good', 'test-normal-2.jpg')]),
    });
    expect(missing.status).toBe(400);
    const unknown = await api('/api/v1/projects/9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d/detect', {
      method: 'POST',
      body: await form('file', [join(cookie, 'test', 'good', 'test-normal-2.jpg')]),
    });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'PROJECT_NOT_FOUND']);
    const wrongConfirm = await api(`/api/v1/projects/${projectId}?confirm=cookies`, { method: 'DELETE' });
    expect([wrongConfirm.status, wrongConfirm.body.error.code]).toEqual([400, 'NAME_MISMATCH']);
  });

  it('deletes a project with everything it owns', async () => {
    const deleted = await api(`/api/v1/projects/${projectId}?confirm=${encodeURIComponent('Cookies line 1')}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body.deletedObjects).toBeGreaterThan(31);
    expect((await api(`/api/v1/projects/${projectId}`)).status).toBe(404);
    expect((await runtime.services.objects.list(`datasets/${projectId}/`)).objects).toHaveLength(0);
  });
});

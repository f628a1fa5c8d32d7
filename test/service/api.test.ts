import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../functions/api/routes/index.ts';
import { sharedDir } from '../../functions/engine/paths.ts';
import { loadLocalSettings, isolatedRuntimeEnv } from '../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { signWebhook } from '../../functions/service/adapters/event-publishers.ts';
import { silentLog } from '../../functions/service/log.ts';
import { waitFor } from '../helpers/wait-for.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');

/** Upload paths, compatibility routes, webhooks and the OpenAPI document, against the local runtime. */
describe.skipIf(!existsSync(cookie))('the API', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let hooks: Server;
  const received: { body: string; signature: string; event: string }[] = [];
  let project: { id: string; webhookSecret: string };
  const api = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${runtime.url}${path}`, {
      ...init,
      headers: { 'x-api-key': runtime.apiKey!, ...(init?.headers as Record<string, string>) },
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-api-'));
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({
          body,
          signature: String(req.headers['x-faultline-signature']),
          event: String(req.headers['x-faultline-event']),
        });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    runtime = await startLocalRuntime(
      loadLocalSettings({
        ...isolatedRuntimeEnv(dataDir),
        FAULTLINE_ACCESS_LOG: 'false',
      }),
      silentLog,
    );
    const webhookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
    project = (
      await api('/api/v1/projects', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'api', webhookUrl }),
      })
    ).body;
  });
  afterAll(async () => {
    await runtime?.stop();
    hooks?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('takes normal images through presigned POST uploads, counted once stored', async () => {
    const dir = join(cookie, 'train', 'good');
    const files = readdirSync(dir).slice(0, 8);
    const presigned = await api(`/api/v1/projects/${project.id}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        files: await Promise.all(
          files.map(async (name) => ({
            name,
            contentType: 'image/jpeg',
            size: (await readFile(join(dir, name))).byteLength,
          })),
        ),
      }),
    });
    expect(presigned.status).toBe(200);
    for (const [i, upload] of presigned.body.uploads.entries()) {
      expect(upload.key).toMatch(new RegExp(`^datasets/${project.id}/[0-9a-f]{8}-${files[i].replace('.', '\\.')}$`));
      const form = new FormData();
      for (const [k, v] of Object.entries(upload.fields as Record<string, string>)) form.append(k, v);
      form.append('file', new Blob([await readFile(join(dir, files[i]))], { type: 'image/jpeg' }), files[i]);
      const response = await fetch(upload.url, { method: 'POST', body: form });
      expect(response.status).toBeLessThan(300);
    }
    const count = await waitFor('8 registered images', async () => {
      const p = await api(`/api/v1/projects/${project.id}/images?limit=100`);
      return p.body.count === 8 ? p.body : undefined;
    });
    expect(count.items).toHaveLength(8);
    // each listed image has a presigned URL (the console's thumbnails)
    const thumbnail = await fetch(count.items[0].url);
    expect([thumbnail.status, thumbnail.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
  });

  it('refuses uploads that break the limits, with the reason', async () => {
    const tooBig = await api(`/api/v1/projects/${project.id}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ files: [{ name: 'a.jpg', contentType: 'image/jpeg', size: 10 ** 9 }] }),
    });
    expect([tooBig.status, tooBig.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const wrongType = await api(`/api/v1/projects/${project.id}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ files: [{ name: 'a.pdf', contentType: 'application/pdf', size: 100 }] }),
    });
    expect([wrongType.status, wrongType.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(wrongType.body.error.details.issues[0].path).toBe('files.0.contentType');
  });

  it('answers the compatibility routes for the default project, and posts signed webhooks', async () => {
    const train = await api(`/api/v1/projects/${project.id}/train`, { method: 'POST' });
    expect(train.status).toBe(202);
    await waitFor('training', async () =>
      (await api(`/api/v1/jobs/${train.body.id}`)).body.status === 'SUCCEEDED' ? true : undefined,
    );
    const noDefault = await api('/api/v1/model-info');
    expect(noDefault.status).toBe(404);
    runtime.services.config.FAULTLINE_DEFAULT_PROJECT = project.id;
    // Readiness means what it says: a client waiting for model_loaded before its first detection is not kept waiting.
    expect(runtime.services.modelCache.has(project.id, 1)).toBe(false);
    expect((await api('/health')).body).toMatchObject({ status: 'ok', model_loaded: true, checks: { model: 'ok' } });

    const info = await api('/api/v1/model-info');
    expect(info.body).toMatchObject({
      model_type: 'PatchCore',
      model_version: 'v1',
      training_images: 8,
      calibration_images: 8,
      quality: { verdict: 'ok', calibration: 'cross-image' },
    });
    // where the calibration images fall on the normalised scale, and the bands at the project's threshold
    const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
    expect(sum(info.body.score_distribution.normals)).toBe(info.body.calibration_images);
    expect(info.body.score_distribution).toMatchObject({ calibrated_threshold: 0.5, decision_threshold: 0.5 });
    expect(info.body.severity_bands_at_threshold).toEqual(info.body.severity_bands);
    const form = new FormData();
    form.append('file', new Blob([await readFile(join(cookie, 'test', 'cracked', 'anomaly-6.jpg'))]), 'anomaly-6.jpg');
    form.append('return_visualizations', 'false');
    const one = await api('/api/v1/detect-anomaly', { method: 'POST', body: form });
    expect(one.status).toBe(200);
    expect(one.body.model_quality).toMatchObject({ verdict: 'ok' });
    expect(Object.keys(one.body)).toEqual(
      expect.arrayContaining([
        'anomaly_score',
        'classification',
        'confidence',
        'is_anomalous',
        'bounding_boxes',
        'visualizations',
        'processing_time',
        'model_version',
      ]),
    );

    // the band moves with a threshold the caller passes: it never contradicts is_anomalous
    for (const threshold of ['0.1', '0.9']) {
      const strict = new FormData();
      strict.append('file', new Blob([await readFile(join(cookie, 'test', 'cracked', 'anomaly-6.jpg'))]), 'a.jpg');
      strict.append('return_visualizations', 'false');
      strict.append('threshold', threshold);
      const r = await api('/api/v1/detect-anomaly', { method: 'POST', body: strict });
      expect(r.status).toBe(200);
      expect(['Overloway', 'Faulty'].includes(r.body.classification)).toBe(r.body.is_anomalous);
    }

    const batch = new FormData();
    for (const f of ['cracked/anomaly-7.jpg', 'good/test-normal-5.jpg'])
      batch.append('files', new Blob([await readFile(join(cookie, 'test', f))]), f.split('/')[1]);
    batch.append('files', new Blob([Buffer.from('not an image')]), 'notes.txt');
    batch.append('return_visualizations', 'false');
    const many = await api('/api/v1/batch-detect', { method: 'POST', body: batch });
    expect(many.status).toBe(200);
    expect(many.body.results.map((r: any) => r.filename)).toEqual(['anomaly-7.jpg', 'test-normal-5.jpg', 'notes.txt']);
    expect(many.body.results[2].error.code).toBe('UNSUPPORTED_IMAGE');
    expect(many.body.summary).toMatchObject({ total_images: 3, failed_count: 1 });
    expect(many.body.summary.faulty_count + many.body.summary.normal_count).toBe(2);

    const health = await api('/health');
    expect(health.body).toMatchObject({
      status: 'ok',
      model_loaded: true,
      default_project: project.id,
      active_model_version: 1,
    });

    const hook = await waitFor('webhooks', async () =>
      received.some((r) => r.event === 'Detection Completed') ? received : undefined,
    );
    for (const r of hook) expect(r.signature).toBe(signWebhook(r.body, project.webhookSecret));
    // the default webhook events: results (and failures), not the jobs and model changes around them
    expect(new Set(hook.map((r) => r.event))).toEqual(new Set(['Detection Completed']));
  });

  it('links the nearest normal patch’s training image and the drop-folder image itself (presigned), without storing the links', async () => {
    const form = new FormData();
    form.append('file', new Blob([await readFile(join(cookie, 'test', 'cracked', 'anomaly-3.jpg'))]), 'anomaly-3.jpg');
    form.append('return_visualizations', 'false');
    const detected = await api(`/api/v1/projects/${project.id}/detect`, { method: 'POST', body: form });
    const nearest = detected.body.evidence.nearest_normal;
    expect(nearest.image).toMatch(/^[0-9a-f]{8}-normal-\d+\.jpg$/);
    expect((await fetch(nearest.url)).headers.get('content-type')).toBe('image/jpeg');
    const stored = await runtime.services.results.get(project.id, detected.body.result_id);
    expect(stored!.result.evidence!.nearest_normal).not.toHaveProperty('url');
    const listed = await api(`/api/v1/projects/${project.id}/results/${detected.body.result_id}`);
    expect(listed.body.result.evidence.nearest_normal.url).toMatch(/^http/);
    expect(listed.body).not.toHaveProperty('image_url'); // API uploads are not kept

    await runtime.services.objects.put(
      `inbox/${project.id}/line-2/photo.jpg`,
      await readFile(join(cookie, 'test', 'cracked', 'anomaly-4.jpg')),
      'image/jpeg',
    );
    const dropped = await waitFor('the drop-folder result', async () =>
      (await api(`/api/v1/projects/${project.id}/results?limit=5`)).body.items.find((r: any) => r.batchId === 'line-2'),
    );
    const image = await fetch(dropped.image_url);
    expect([image.status, image.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
  });

  it('requires the API key on every route but /health and /openapi.json', async () => {
    const none = await fetch(`${runtime.url}/api/v1/projects`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const wrong = await fetch(`${runtime.url}/api/v1/projects/${project.id}`, {
      headers: { 'x-api-key': `${runtime.apiKey!.slice(0, -2)}xx` },
    });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${runtime.url}/health`)).status).toBe(200);
    expect((await fetch(`${runtime.url}/openapi.json`)).status).toBe(200);
    // the key is kept for the next start, readable by this user only
    const { mode } = await import('node:fs').then((fs) => fs.statSync(join(dataDir, 'api-key')));
    expect(mode & 0o077).toBe(0);
    // a second key works too, and stops working once revoked
    const created = await api('/api/v1/api-keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'scanner', projectIds: [project.id] }),
    });
    expect(created.status).toBe(201);
    expect((await fetch(`${runtime.url}/api/v1/projects`, { headers: { 'x-api-key': created.body.key } })).status).toBe(
      200,
    );
    expect(
      (
        await fetch(`${runtime.url}/api/v1/api-keys/${created.body.id}`, {
          method: 'DELETE',
          headers: { 'x-api-key': runtime.apiKey! },
        })
      ).status,
    ).toBe(204);
    expect((await fetch(`${runtime.url}/api/v1/projects`, { headers: { 'x-api-key': created.body.key } })).status).toBe(
      401,
    );
  });

  it('serves an OpenAPI 3.1 document with every route, and the docs page', async () => {
    const doc = (await api('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    expect(doc.components.schemas.Detection.required).toEqual(
      expect.arrayContaining(['anomaly_score', 'bounding_boxes', 'visualizations']),
    );
    const page = await fetch(`${runtime.url}/docs`);
    expect(await page.text()).toContain('swagger-ui-bundle.js');
    expect((await fetch(`${runtime.url}/docs/swagger-ui-bundle.js`)).status).toBe(200);
  });
});

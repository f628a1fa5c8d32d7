import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COOKIE, startCompatRuntime } from './compat-runtime.ts';

type Json = Record<string, any>;

/**
 * A client of the project/training backend: its paths without /api/v1, its field names (files, job_id, model_id,
 * scene_id), its lower-case job states. It sends the deployment's key (x-api-key), as a client that makes projects
 * must; the routes on the open default project need none.
 */
describe('a project/training backend client', () => {
  let url: string;
  let key: string;
  let defaultProject: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const started = await startCompatRuntime('training-backend', { FAULTLINE_WORKERS: '1' });
    ({ url } = started.runtime);
    key = started.runtime.apiKey!;
    defaultProject = started.projectId;
    stop = started.stop;
  }, 60_000);
  afterAll(async () => stop?.());

  const call = async (path: string, init: RequestInit & { anonymous?: boolean } = {}) => {
    const res = await fetch(`${url}${path}`, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.anonymous ? {} : { 'x-api-key': key }), ...(init.headers as Record<string, string>) },
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Json };
  };
  const files = async (field: string, names: string[]) => {
    const form = new FormData();
    for (const n of names)
      form.append(field, new Blob([await readFile(join(COOKIE, 'train', 'good', n))], { type: 'image/jpeg' }), n);
    return form;
  };
  const waitForJob = async (jobId: string) => {
    for (let i = 0; i < 240; i++) {
      const job = await call(`/jobs/${jobId}`);
      expect(job.status).toBe(200);
      expect(['pending', 'running', 'completed', 'failed']).toContain(job.body.status);
      if (job.body.status === 'completed' || job.body.status === 'failed') return job.body;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('training did not end');
  };

  it('creates a project, uploads, trains, tests a model and downloads what it made', async () => {
    const created = await call('/projects', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cookies', description: 'line 3' }),
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const up = await call(`/projects/${id}/upload`, {
      method: 'POST',
      body: await files('files', ['normal-1.jpg', 'normal-2.jpg', 'normal-3.jpg']),
    });
    expect(up.body).toMatchObject({ uploaded: 3, total_images: 3, rejected: [] });
    const train = await call(`/projects/${id}/train`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ img_size: 256, epochs: 10, lr: 0.001 }),
    });
    expect(train.status).toBe(202);
    expect(train.body).toMatchObject({ status: 'pending', progress: 0 });
    expect(train.body.notes.join(' ')).toMatch(/epochs: ignored.*lr: ignored|img_size: ignored/);
    const job = await waitForJob(train.body.job_id);
    expect(job).toMatchObject({ status: 'completed', progress: 100 });

    const form = new FormData();
    const image = await readFile(join(COOKIE, 'test', 'cracked', 'anomaly-1.jpg'));
    form.append('file', new Blob([image], { type: 'image/jpeg' }), 'anomaly-1.jpg');
    const tested = await call(`/models/${job.model_id}/test`, { method: 'POST', body: form });
    expect(tested.status, JSON.stringify(tested.body)).toBe(200);
    for (const u of ['input_url', 'heatmap_url', 'overlay_url']) expect((await fetch(tested.body[u])).status).toBe(200);
    expect(Buffer.from(await (await fetch(tested.body.input_url)).arrayBuffer()).equals(image)).toBe(true);

    const model = await call(`/models/${job.model_id}/download`);
    expect(model.body.files.map((f: Json) => f.name)).toContain('manifest.json');
    const overlay = await call(`/models/${job.model_id}/results/${tested.body.result_id}/overlay`);
    expect(overlay.status).toBe(302);
    expect((await fetch(overlay.headers.get('location')!)).headers.get('content-type')).toBe('image/png');
    expect((await call(`/models/${job.model_id}/results/${tested.body.result_id}/secret`)).status).toBe(400);
  }, 90_000);

  it('runs the legacy scene flow: a scene is a project named by its id', async () => {
    const first = await call('/datasets/scene_7/upload', {
      method: 'POST',
      body: await files('files', ['normal-4.jpg']),
    });
    const again = await call('/datasets/scene_7/upload', {
      method: 'POST',
      body: await files('files', ['normal-5.jpg']),
    });
    expect(first.status).toBe(200);
    expect(again.body).toMatchObject({ scene_id: 'scene_7', project_id: first.body.project_id, total_images: 2 });
    const train = await call('/train', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scene_id: 'scene_7', epochs: 3 }),
    });
    expect(train.status).toBe(202);
    expect((await waitForJob(train.body.job_id)).status).toBe('completed');
    const unknown = await call('/train', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scene_id: 'never-uploaded' }),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toMatch(/no project/);
  }, 90_000);

  it('without a key: the open default project only, never new projects', async () => {
    const up = await call(`/projects/${defaultProject}/upload`, {
      method: 'POST',
      anonymous: true,
      body: await files('files', ['normal-6.jpg']),
    });
    expect(up.status).toBe(200);
    const other = await call('/projects', {
      method: 'POST',
      anonymous: true,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'mine' }),
    });
    expect(other.status).toBe(403);
    expect(other.body.detail).toBeTypeOf('string');
  });

  it('leaves the console its pages under /projects', async () => {
    const page = await fetch(`${url}/projects/${defaultProject}/upload`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect((await fetch(`${url}/projects`, { headers: { accept: 'application/json' } })).status).toBe(405);
  });
});

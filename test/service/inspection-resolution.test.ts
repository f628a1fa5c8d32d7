import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDir } from '../../functions/engine/paths.ts';
import { isolatedRuntimeEnv, loadLocalSettings } from '../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { waitFor } from '../helpers/wait-for.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');

/** A project's inspection setting (resolution, multi-scale, input normalisation) through the API: validated, kept, and honoured by training and detection. */
describe.skipIf(!existsSync(cookie))('a project inspecting at 448 px', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  const api = async (path: string, init?: RequestInit & { json?: unknown }) => {
    const response = await fetch(`${runtime.url}${path}`, {
      ...init,
      ...(init?.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      headers: {
        'x-api-key': runtime.apiKey!,
        ...(init?.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init?.headers as Record<string, string>),
      },
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-inspection-'));
    runtime = await startLocalRuntime(
      loadLocalSettings({ ...isolatedRuntimeEnv(dataDir), FAULTLINE_ACCESS_LOG: 'false' }),
      silentLog,
    );
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a resolution off the 8 px lattice, below 224 or above the cap, and unknown fields, with 400', async () => {
    for (const inspection of [
      { resolution: 450 },
      { resolution: 112 },
      { resolution: 4096 },
      { resolution: '448' },
      { resolution: 448, tiles: 4 },
      { resolution: 224, normalise: 'imagenet' },
      {},
    ]) {
      const created = await api('/api/v1/projects', { method: 'POST', json: { name: 'bad', inspection } });
      expect(created.status, JSON.stringify(inspection)).toBe(400);
      expect(created.body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('trains at the project resolution and detects with boxes in the image pixels', async () => {
    const project = (
      await api('/api/v1/projects', { method: 'POST', json: { name: 'tiles', inspection: { resolution: 448 } } })
    ).body;
    expect(project.inspection).toEqual({ resolution: 448, multiScale: false });
    const patched = await api(`/api/v1/projects/${project.id}`, {
      method: 'PATCH',
      json: { inspection: { resolution: 448, multiScale: true, normalise: 'each-image' } },
    });
    expect(patched.status).toBe(200);
    expect((await api(`/api/v1/projects/${project.id}`)).body.inspection).toEqual({
      resolution: 448,
      multiScale: true,
      normalise: 'each-image',
    });

    const form = new FormData();
    for (const name of readdirSync(join(cookie, 'train', 'good'))
      .sort()
      .slice(0, 3))
      form.append('files', new Blob([await readFile(join(cookie, 'train', 'good', name))]), name);
    expect((await api(`/api/v1/projects/${project.id}/images`, { method: 'POST', body: form })).status).toBe(200);
    const train = await api(`/api/v1/projects/${project.id}/train`, { method: 'POST' });
    const job = await waitFor(
      'training',
      async () => {
        const j = (await api(`/api/v1/jobs/${train.body.id}`)).body;
        return j.status === 'SUCCEEDED' || j.status === 'FAILED' ? j : undefined;
      },
      180_000,
    );
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const model = (await api(`/api/v1/projects/${project.id}/models/${job.output.modelVersion}`)).body;
    expect(model.preprocessing).toMatchObject({ size: 448, normalise: 'each-image' });

    const detect = new FormData();
    detect.append('file', new Blob([await readFile(join(cookie, 'test', 'cracked', 'anomaly-1.jpg'))]), 'a.jpg');
    detect.append('return_visualizations', 'false');
    const result = (await api(`/api/v1/projects/${project.id}/detect`, { method: 'POST', body: detect })).body;
    expect(result.is_anomalous).toBe(true);
    expect(result.bounding_boxes.length).toBeGreaterThan(0);
    for (const b of result.bounding_boxes) {
      expect(b.x + b.width).toBeLessThanOrEqual(288);
      expect(b.y + b.height).toBeLessThanOrEqual(384);
    }
  }, 240_000);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRuntimeEnv, loadLocalSettings } from '../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { newStagedModelKey } from '../../functions/service/object-keys.ts';
import { buildTestClassifier, colourPng, testClassifierSpec } from '../helpers/classifier-models.ts';

const MAX_MODEL_BYTES = 8192;

/** Large models: a presigned POST to a staging key, then registration (checked by running once); the key is consumed. */
describe('presigned model upload and registration', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let projectId: string;
  const api = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${runtime.url}${path}`, {
      ...init,
      headers: { 'x-api-key': runtime.apiKey!, ...(init?.headers as Record<string, string>) },
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const post = (path: string, body: unknown) =>
    api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const uploadUrl = (size: number, id = projectId) => post(`/api/v1/projects/${id}/models/upload-url`, { size });
  const register = (key: string, spec: unknown = testClassifierSpec()) =>
    post(`/api/v1/projects/${projectId}/models/register`, { key, spec });
  /** Uploads bytes with the presigned POST, as a browser or curl would; S3's status. */
  const putStaged = async (upload: { url: string; fields: Record<string, string> }, bytes: Uint8Array) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
    form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'model.onnx');
    return (await fetch(upload.url, { method: 'POST', body: form })).status;
  };
  const createProject = async (name: string, kind: string) => (await post('/api/v1/projects', { name, kind })).body.id;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-staged-model-'));
    runtime = await startLocalRuntime(
      loadLocalSettings({
        ...isolatedRuntimeEnv(dataDir),
        FAULTLINE_ACCESS_LOG: 'false',
        FAULTLINE_MAX_MODEL_BYTES: String(MAX_MODEL_BYTES),
      }),
      silentLog,
    );
    projectId = await createProject('large-models', 'classification');
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('registers a model uploaded through the presigned URL as the active version, and deletes the staged object', async () => {
    const model = buildTestClassifier();
    const url = await uploadUrl(model.byteLength);
    expect(url.status).toBe(200);
    expect(url.body.key).toMatch(new RegExp(`^models/${projectId}/staging/[0-9a-f]{32}\\.onnx$`));
    expect(url.body.maxBytes).toBe(model.byteLength);
    expect(await putStaged(url.body, model)).toBeLessThan(300);
    const registered = await register(url.body.key);
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ version: 1, active: true, source: 'upload', kind: 'classification' });
    expect(registered.body.file.bytes).toBe(model.byteLength);
    expect(await runtime.services.objects.head(url.body.key)).toBeUndefined();
    // the key is spent: registering it again finds nothing
    const again = await register(url.body.key);
    expect([again.status, again.body.error.code]).toEqual([404, 'NOT_FOUND']);
    // and the version answers
    const form = new FormData();
    form.append('file', new Blob([await colourPng(255, 0, 0)]), 'red.png');
    const classified = await api(`/api/v1/projects/${projectId}/classify`, { method: 'POST', body: form });
    expect([classified.status, classified.body.model_version]).toEqual([200, 'v1']);
  });

  it('registers one staged upload once when it is registered several times at once: one version, the others 409', async () => {
    const model = buildTestClassifier();
    const url = await uploadUrl(model.byteLength);
    expect(await putStaged(url.body, model)).toBeLessThan(300);
    const before = (await runtime.services.uploadedModels.list(projectId)).length;
    const answers = await Promise.all(Array.from({ length: 4 }, () => register(url.body.key)));
    const won = answers.filter((a) => a.status === 201);
    expect(won).toHaveLength(1);
    for (const lost of answers.filter((a) => a.status !== 201)) {
      // A loser either met the claim (409) or came after the winner had consumed the key (404).
      expect([409, 404]).toContain(lost.status);
      if (lost.status === 409) {
        expect(lost.body.error.code).toBe('CONFLICT');
        expect(lost.body.error.message).toContain('being registered');
      }
    }
    expect(answers.some((a) => a.status === 409)).toBe(true);
    expect((await runtime.services.uploadedModels.list(projectId)).length).toBe(before + 1);
    // The claim is freed with the key: registering it later is the spent key's 404.
    const later = await register(url.body.key);
    expect([later.status, later.body.error.code]).toEqual([404, 'NOT_FOUND']);
    // A claim left by a registration that died is taken again once past its time.
    const store = runtime.services.uploadedModels;
    const key = newStagedModelKey(projectId);
    expect(await store.claimStaged(projectId, key, new Date(Date.now() - 10_000))).toBe(true);
    expect(await store.claimStaged(projectId, key, new Date(Date.now() + 60_000))).toBe(true);
    expect(await store.claimStaged(projectId, key, new Date(Date.now() + 60_000))).toBe(false);
    await store.releaseStaged(projectId, key);
  });

  it('refuses a size above the limit, and S3 refuses a file above the declared size', async () => {
    const tooBig = await uploadUrl(MAX_MODEL_BYTES + 1);
    expect([tooBig.status, tooBig.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const small = await uploadUrl(100);
    expect(await putStaged(small.body, new Uint8Array(200))).toBeGreaterThanOrEqual(400);
    expect(await runtime.services.objects.head(small.body.key)).toBeUndefined();
  });

  it('refuses an oversize object put at a staging key by another S3 client, and deletes it', async () => {
    const key = newStagedModelKey(projectId);
    await runtime.services.objects.put(key, new Uint8Array(MAX_MODEL_BYTES + 1));
    const r = await register(key);
    expect([r.status, r.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(await runtime.services.objects.head(key)).toBeUndefined();
  });

  it('refuses a file that is not ONNX, or a model unlike its spec, with the reason, and deletes the staged object', async () => {
    const versions = (await api(`/api/v1/projects/${projectId}/uploaded-models`)).body.items.length;
    const text = new TextEncoder().encode('not a model at all');
    const notOnnx = await uploadUrl(text.byteLength);
    expect(await putStaged(notOnnx.body, text)).toBeLessThan(300);
    const r = await register(notOnnx.body.key);
    expect([r.status, r.body.error.code]).toEqual([415, 'MODEL_NOT_ONNX']);
    expect(await runtime.services.objects.head(notOnnx.body.key)).toBeUndefined();

    const wrong = buildTestClassifier({ sharedColumns: 4 });
    const mismatch = await uploadUrl(wrong.byteLength);
    expect(await putStaged(mismatch.body, wrong)).toBeLessThan(300);
    const m = await register(mismatch.body.key);
    expect([m.status, m.body.error.code]).toEqual([422, 'MODEL_SPEC_MISMATCH']);
    expect(m.body.error.message).toContain('conditions_detected');
    expect(await runtime.services.objects.head(mismatch.body.key)).toBeUndefined();

    const model = buildTestClassifier();
    const badSpec = await uploadUrl(model.byteLength);
    expect(await putStaged(badSpec.body, model)).toBeLessThan(300);
    const s = await register(badSpec.body.key, { heads: [] });
    expect([s.status, s.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await runtime.services.objects.head(badSpec.body.key)).toBeUndefined();
    expect((await api(`/api/v1/projects/${projectId}/uploaded-models`)).body.items).toHaveLength(versions);
  });

  it('refuses a key outside the project’s staging prefix and leaves that object alone', async () => {
    const other = await createProject('other', 'classification');
    const othersKey = newStagedModelKey(other);
    await runtime.services.objects.put(othersKey, buildTestClassifier());
    for (const key of [
      othersKey,
      `models/${projectId}/v1/model.onnx`,
      `models/${projectId}/staging/../v1/model.onnx`,
      `models/${projectId}/staging/${'a'.repeat(32)}.onnx/x`,
      `datasets/${projectId}/a.onnx`,
    ]) {
      const r = await register(key);
      expect([key, r.status, r.body.error.code]).toEqual([key, 400, 'VALIDATION_FAILED']);
    }
    expect(await runtime.services.objects.head(othersKey)).toBeDefined();
    expect(await runtime.services.objects.head(`models/${projectId}/v1/model.onnx`)).toBeDefined();
  });

  it('answers 409 for a project whose models are trained here', async () => {
    const anomaly = await createProject('anomaly', 'anomaly');
    const r = await uploadUrl(100, anomaly);
    expect([r.status, r.body.error.code]).toEqual([409, 'WRONG_PROJECT_KIND']);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeApi } from '../helpers/local-runtime.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadLocalSettings, isolatedRuntimeEnv } from '../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { FAILED_LOAD_REMEMBERED_MS, LoadedModels } from '../../functions/service/models/loaded-models.ts';
import { modelPrefix } from '../../functions/service/object-keys.ts';
import { ServiceError } from '../../functions/service/errors.ts';
import { buildTestClassifier, testClassifierSpec } from '../helpers/classifier-models.ts';

const CALLS = 8;

/** Public health routes load the default model; one that fails to load must not be fetched again on every call. */
describe('a model that fails to load', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  const { api, createProject } = runtimeApi(() => runtime);
  /** Counts the object store reads under a prefix from now on. */
  const countReads = (prefix: string) => {
    const objects = runtime.services.objects;
    const get = objects.get.bind(objects);
    const counter = { n: 0 };
    vi.spyOn(objects, 'get').mockImplementation((key: string) => {
      if (key.startsWith(prefix)) counter.n++;
      return get(key);
    });
    return counter;
  };
  const later = (ms: number) => vi.setSystemTime(Date.now() + ms);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-load-failures-'));
    runtime = await startLocalRuntime(
      loadLocalSettings({ ...isolatedRuntimeEnv(dataDir), FAULTLINE_ACCESS_LOG: 'false' }),
      silentLog,
    );
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is fetched once for many anonymous /health calls within the window, again after it', async () => {
    const projectId = await createProject('broken', 'anomaly');
    // An active version whose artifact is not in the object store.
    await runtime.services.projects.update(projectId, { activeModelVersion: 1 });
    runtime.services.config.FAULTLINE_DEFAULT_PROJECT = projectId;
    const reads = countReads(modelPrefix(projectId, 1));
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const health = async () => {
      const r = await fetch(`${runtime.url}/health`);
      return { status: r.status, body: (await r.json()) as any };
    };
    // In parallel (one shared load) and one after another (the remembered failure).
    const answers = await Promise.all(Array.from({ length: CALLS }, health));
    for (let i = 0; i < CALLS; i++) answers.push(await health());
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.body).toMatchObject({ model_loaded: false, checks: { model: 'failed' } });
    }
    expect(reads.n).toBe(1);
    later(FAILED_LOAD_REMEMBERED_MS - 1000);
    expect((await health()).status).toBe(503);
    expect(reads.n).toBe(1);
    later(2000);
    expect((await health()).status).toBe(503);
    expect(reads.n).toBe(2);
  });

  it('behind /api/v1/analyze/health too; a version activated to replace it loads at once', async () => {
    const projectId = await createProject('classifier', 'classification');
    const form = new FormData();
    form.append('model', new Blob([buildTestClassifier()]), 'model.onnx');
    form.append('spec', new Blob([JSON.stringify(testClassifierSpec())]), 'spec.json');
    const upload = () => api(`/api/v1/projects/${projectId}/models/upload`, { method: 'POST', body: form });
    const first = await upload();
    expect(first.status).toBe(201);
    const stored = (await runtime.services.uploadedModels.get(projectId, 1))!;
    await runtime.services.objects.deletePrefix(stored.artifactPrefix);
    runtime.services.config.FAULTLINE_DEFAULT_CLASSIFIER_PROJECT = projectId;
    const reads = countReads(stored.artifactPrefix);
    const health = () => api('/api/v1/analyze/health');
    for (let i = 0; i < CALLS; i++) {
      const h = await health();
      expect(h.status).toBe(503);
      expect(h.body.reason).toContain('missing');
    }
    expect(reads.n).toBe(1);
    const second = await upload();
    expect(second.status).toBe(201);
    const h = await health();
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'healthy', model_version: 'v2' });
  });

  it('loads of one model at once share one load; a failure is kept per model, not for others', async () => {
    const release = async () => {};
    const models = new LoadedModels<{ release(): Promise<void> }>(() => 4);
    let loads = 0;
    const slow = () => {
      loads++;
      return new Promise<{ release(): Promise<void> }>((resolve) => setTimeout(() => resolve({ release }), 20));
    };
    const all = await Promise.all(Array.from({ length: 5 }, () => models.get('a', slow)));
    expect(loads).toBe(1);
    expect(new Set(all).size).toBe(1);
    let failing = 0;
    const fail = () => {
      failing++;
      return Promise.reject(new ServiceError('MODEL_UNUSABLE', 'no such model'));
    };
    await expect(models.get('b', fail)).rejects.toThrow('no such model');
    await expect(models.get('b', fail)).rejects.toThrow('no such model');
    expect(failing).toBe(1);
    await expect(models.get('c', slow)).resolves.toBeDefined();
    // Forgetting (a deleted project) drops the remembered failure too.
    await models.forget((id) => id === 'b');
    await expect(models.get('b', fail)).rejects.toThrow();
    expect(failing).toBe(2);
    // A passing fault of the store (not the model's) is not remembered: the next call tries again.
    let flaky = 0;
    const blip = () => {
      flaky++;
      return Promise.reject(new Error('socket hang up'));
    };
    await expect(models.get('d', blip)).rejects.toThrow('socket hang up');
    await expect(models.get('d', blip)).rejects.toThrow('socket hang up');
    expect(flaky).toBe(2);
  });
});

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestClassifier, testClassifierSpec } from '../helpers/classifier-models.ts';
import { waitFor } from '../helpers/wait-for.ts';
import {
  COOKIE,
  type ConsoleSession,
  CRACKED_COOKIE,
  cookieTrainingImages,
  openTab,
  signIn,
  startConsoleSession,
  testImages,
  TRAINING_TIMEOUT_MS,
} from './console-flow.ts';

/**
 * The combined anomaly + defect type answer in the console: an anomaly project's settings link a classification
 * project, and the test screen then shows each region's defect type and how sure the classifier is.
 */
describe.skipIf(!existsSync(COOKIE))('defect types in the web console', () => {
  let session: ConsoleSession;
  let page: Page;
  let anomaly: string;
  let classifier: string;
  const consoleErrors: string[] = [];
  const api = async (path: string, init?: RequestInit) => {
    const r = await fetch(`${session.runtime.url}${path}`, {
      ...init,
      headers: { 'x-api-key': session.runtime.apiKey!, ...(init?.headers as Record<string, string>) },
    });
    return { status: r.status, body: (await r.json()) as any };
  };
  const json = (method: string, body: unknown): RequestInit => ({
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

  beforeAll(async () => {
    session = await startConsoleSession();
    page = session.page;
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    classifier = (await api('/api/v1/projects', json('POST', { name: 'Crack types', kind: 'classification' }))).body.id;
    const model = new FormData();
    model.append('model', new Blob([buildTestClassifier()]), 'model.onnx');
    model.append('spec', new Blob([JSON.stringify(testClassifierSpec())]), 'spec.json');
    expect((await api(`/api/v1/projects/${classifier}/models/upload`, { method: 'POST', body: model })).status).toBe(
      201,
    );
    // A few normal images and a low threshold: a quick model on which the cracked cookie surely has a region.
    anomaly = (await api('/api/v1/projects', json('POST', { name: 'Cookies typed', threshold: 0.3 }))).body.id;
    const images = new FormData();
    for (const path of cookieTrainingImages().slice(0, 6))
      images.append('files', new Blob([await readFile(path)]), path.split('/').pop());
    expect((await api(`/api/v1/projects/${anomaly}/images`, { method: 'POST', body: images })).status).toBe(200);
    const job = (await api(`/api/v1/projects/${anomaly}/train`, { method: 'POST' })).body;
    const done = await waitFor(
      'anomaly training',
      async () => {
        const j = (await api(`/api/v1/jobs/${job.id}`)).body;
        return ['SUCCEEDED', 'FAILED'].includes(j.status) ? j : undefined;
      },
      TRAINING_TIMEOUT_MS,
    );
    expect(done.status, JSON.stringify(done.error)).toBe('SUCCEEDED');
  }, TRAINING_TIMEOUT_MS + 60_000);
  afterAll(async () => {
    await session?.close();
  });

  it('links a classification project from the anomaly project’s settings', async () => {
    await signIn(page, session.runtime);
    await page.goto(`${session.runtime.url}/projects/${anomaly}`);
    await openTab(page, 'Settings');
    const form = page.getByRole('form', { name: 'Defect types' });
    await form.getByLabel('Defect classifier').selectOption({ label: 'Crack types' });
    await form.getByRole('button', { name: 'Save defect classifier' }).click();
    await form.getByText('Defect classifier linked.').waitFor();
    expect((await api(`/api/v1/projects/${anomaly}`)).body.defectClassifier).toBe(classifier);
  });

  it('shows each region’s defect type and confidence beside the anomaly answer', async () => {
    await testImages(page, [CRACKED_COOKIE]);
    const result = page.getByRole('article', { name: 'Result for anomaly-1.jpg' });
    await expect(result.textContent()).resolves.toContain(`Defect types by${classifier}/v1`);
    const box = result.getByText(/^Box 1:/);
    await expect(box.textContent()).resolves.toMatch(/; (dry|normal|oily) \(\d+% sure\)$/);
    expect(consoleErrors).toEqual([]);
  });
});

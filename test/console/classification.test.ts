import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestClassifier, colourPng, testClassifierSpec } from '../helpers/classifier-models.ts';
import { type ConsoleSession, signIn, startConsoleSession } from './console-flow.ts';

/** A classification project in the console: upload a model with its spec, test an image (every head), the results. */
describe('a classification project in the web console', () => {
  let session: ConsoleSession;
  let page: Page;
  let files: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    session = await startConsoleSession();
    page = session.page;
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    files = await mkdtemp(join(tmpdir(), 'faultline-console-classify-'));
    await writeFile(join(files, 'model.onnx'), buildTestClassifier());
    await writeFile(join(files, 'wrong.onnx'), buildTestClassifier({ sharedColumns: 4 }));
    await writeFile(join(files, 'spec.json'), JSON.stringify(testClassifierSpec()));
    await writeFile(join(files, 'red.png'), await colourPng(255, 0, 0));
  });
  afterAll(async () => {
    await session?.close();
    await rm(files, { recursive: true, force: true });
  });

  it('shows the API’s reason for a model that does not match its spec, then keeps a good one', async () => {
    await signIn(page, session.runtime);
    await page.getByLabel('Name', { exact: true }).fill('skin');
    await page.getByLabel('Kind').selectOption('classification');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'No model yet' }).waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/projects\/[0-9a-f-]{36}\/models$/);
    const form = page.getByRole('form', { name: 'Upload a model' });
    await form.getByLabel('ONNX model').setInputFiles(join(files, 'wrong.onnx'));
    await form.getByLabel('Spec (JSON)').setInputFiles(join(files, 'spec.json'));
    await form.getByRole('button', { name: 'Upload and check' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('head conditions_detected');
    await form.getByLabel('ONNX model').setInputFiles(join(files, 'model.onnx'));
    await form.getByRole('button', { name: 'Upload and check' }).click();
    const model = page.getByRole('region', { name: 'Model v1' });
    await model.waitFor();
    await expect(model.textContent()).resolves.toMatch(/v1\s*active/);
    await expect(model.textContent()).resolves.toContain('conditions_detected (sigmoid, threshold 0.5)');
  });

  it('classifies a dropped image, every head shown, and lists it in the results', async () => {
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Test', exact: true }).click();
    await page.getByLabel('Images to classify').setInputFiles(join(files, 'red.png'));
    const result = page.getByRole('article', { name: 'Classification of red.png' });
    await result.waitFor();
    await expect(
      result.getByRole('region', { name: 'Head skin_type' }).getByRole('heading').textContent(),
    ).resolves.toContain('dry');
    await expect(
      result.getByRole('region', { name: 'Head conditions_detected' }).getByRole('heading').textContent(),
    ).resolves.toContain('acne, redness');
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Results', exact: true }).click();
    await expect(page.getByRole('row', { name: /red\.png/ }).textContent()).resolves.toContain('skin_type: dry');
    expect(consoleErrors).toEqual([]);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRectangleFinder, FINDER_CLASSES, rectangleImage } from '../engine/object-detection/yolo-graphs.ts';
import { type ConsoleSession, signIn, startConsoleSession } from './console-flow.ts';

/** An object-detection project in the console: upload a YOLO model with its spec, test an image (boxes), results. */
describe('an object-detection project in the web console', () => {
  let session: ConsoleSession;
  let page: Page;
  let files: string;
  const consoleErrors: string[] = [];
  const spec = (width: number) => ({
    input: { name: 'images', width, height: width },
    classes: FINDER_CLASSES,
    thresholds: { confidence: 0.1, iou: 0.45 },
  });

  beforeAll(async () => {
    session = await startConsoleSession();
    page = session.page;
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    files = await mkdtemp(join(tmpdir(), 'faultline-console-objdet-'));
    await writeFile(join(files, 'model.onnx'), buildRectangleFinder('v8', 160, 160));
    await writeFile(join(files, 'spec.json'), JSON.stringify(spec(160)));
    await writeFile(join(files, 'wrong-spec.json'), JSON.stringify(spec(320)));
    await writeFile(join(files, 'part.png'), await rectangleImage(320, 160, { x: 60, y: 30, width: 60, height: 60 }));
  });
  afterAll(async () => {
    await session?.close();
    await rm(files, { recursive: true, force: true });
  });

  it('shows the API’s reason for a model that does not match its spec, then keeps a good one', async () => {
    await signIn(page, session.runtime);
    await page.getByLabel('Name', { exact: true }).fill('line 4');
    await page.getByLabel('Kind').selectOption('object-detection');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'No model yet' }).waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/projects\/[0-9a-f-]{36}\/models$/);
    const form = page.getByRole('form', { name: 'Upload a model' });
    await form.getByLabel('ONNX model').setInputFiles(join(files, 'model.onnx'));
    await form.getByLabel('Spec (JSON)').setInputFiles(join(files, 'wrong-spec.json'));
    await form.getByRole('button', { name: 'Upload and check' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('320');
    await form.getByLabel('Spec (JSON)').setInputFiles(join(files, 'spec.json'));
    await form.getByRole('button', { name: 'Upload and check' }).click();
    const model = page.getByRole('region', { name: 'Model v1' });
    await model.waitFor();
    await expect(model.textContent()).resolves.toMatch(/v1\s*active/);
    await expect(model.textContent()).resolves.toContain('Classes: scratch, dent, stain');
  });

  it('detects objects in a dropped image, the boxes drawn and listed, and lists it in the results', async () => {
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Test', exact: true }).click();
    await page.getByLabel('Images to detect objects in').setInputFiles(join(files, 'part.png'));
    const result = page.getByRole('article', { name: 'Objects in part.png' });
    await result.waitFor();
    await expect(result.getByRole('heading').textContent()).resolves.toContain('2 objects');
    await expect(result.getByRole('row', { name: /dent/ }).textContent()).resolves.toContain('60, 30, 60 × 60');
    const drawn = result.getByRole('img', { name: 'part.png with the boxes drawn' });
    await expect.poll(() => drawn.evaluate((img: any) => (img.complete ? img.naturalWidth : 0))).toBe(320);
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Results', exact: true }).click();
    await expect(page.getByRole('row', { name: /part\.png/ }).textContent()).resolves.toContain('1 dent, 1 stain');
    expect(consoleErrors).toEqual([]);
  });
});

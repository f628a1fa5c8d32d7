import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COOKIE,
  type ConsoleSession,
  CRACKED_COOKIE,
  cookieTrainingImages,
  createProject,
  openTab,
  signIn,
  startConsoleSession,
  testImages,
  train,
  TRAINING_TIMEOUT_MS,
  uploadImages,
  waitForTraining,
} from './console-flow.ts';

/**
 * The web console in Chromium against the local runtime: a person signs in, creates a project, uploads the cookie
 * images, trains, tests a cracked cookie, reviews it in the gallery and deletes the project.
 */
describe.skipIf(!existsSync(COOKIE))('the web console in a browser', () => {
  let session: ConsoleSession;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    session = await startConsoleSession();
    page = session.page;
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  });
  afterAll(async () => {
    await session?.close();
  });

  it('asks for an API key, refuses a wrong one with the API message, and shows the empty project list', async () => {
    const { runtime } = session;
    const response = await page.goto(`${runtime.url}/`);
    const headers = response!.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain(
      `img-src 'self' data: blob: ${new URL(runtime.s3Endpoint).origin}`,
    );
    expect(headers['x-frame-options']).toBe('DENY');
    await page.getByLabel('API key').fill('flk_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/That key was not accepted.*(API key|key)/i);
    await signIn(page, runtime);
    await page.getByRole('heading', { name: 'No projects yet' }).waitFor();
  });

  it('takes the key once from the address fragment and removes it from the address bar', async () => {
    const other = await session.browser.context.newPage();
    await other.goto(`${session.runtime.url}/#key=${session.runtime.apiKey}`);
    await other.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
    expect(other.url()).toBe(`${session.runtime.url}/`);
    await other.close();
  });

  it('creates a project and uploads the normal images with per-file progress; a text file and a broken image are rejected with reasons', async () => {
    await createProject(page, 'Cookies line 1');
    await page.getByRole('heading', { name: 'No images yet' }).waitFor();
    const notAnImage = join(tmpdir(), `notes-${process.pid}.txt`);
    const broken = join(tmpdir(), `broken-${process.pid}.jpg`);
    await writeFile(notAnImage, 'not an image\n');
    await writeFile(broken, 'this is text with a .jpg name\n');
    await uploadImages(page, [...cookieTrainingImages(), notAnImage, broken]);
    const rejected = page.getByRole('alert').filter({ hasText: 'files were not added' });
    await expect(rejected.textContent()).resolves.toContain(
      `notes-${process.pid}.txt: not an image the service accepts (text/plain)`,
    );
    await expect(rejected.textContent()).resolves.toContain(
      `broken-${process.pid}.jpg: the service could not read it as an image`,
    );
    await page.getByText('31 images added, 2 rejected').waitFor();
    await page.locator('.count').getByText('31 images').waitFor();
    const thumbnails = page.getByRole('list', { name: 'Normal images' }).getByRole('img');
    await expect.poll(() => thumbnails.count()).toBe(31);
    // the thumbnails are presigned URLs of the stand-in S3, allowed by the page's CSP, and load
    await expect
      .poll(() => thumbnails.first().evaluate((img: any) => (img.complete ? img.naturalWidth : 0)))
      .toBeGreaterThan(0);
  });

  it(
    'trains, shows the progress live, then model v1 with its thresholds',
    { timeout: TRAINING_TIMEOUT_MS + 60_000 },
    async () => {
      await train(page);
      await waitForTraining(page);
      const model = page.getByLabel('Model v1');
      await model.waitFor();
      expect(await model.textContent()).toMatch(/Image threshold\s*\d+\.\d{3}/);
      await expect(page.getByRole('row', { name: /v1/ }).textContent()).resolves.toContain('Active');
    },
  );

  it('tests a cracked cookie: score, band, heatmap with opacity, a box, the mask and the nearest normal patch', async () => {
    await testImages(page, [CRACKED_COOKIE]);
    const result = page.getByRole('article', { name: 'Result for anomaly-1.jpg' });
    await expect(result.textContent()).resolves.toContain('Anomalous');
    expect(await result.locator('.badge').first().textContent()).toMatch(/^(Overloway|Faulty)$/);
    await result.getByText(/^Box 1: (Critical|Warning), peak \d+%/).waitFor();
    await result.getByRole('img', { name: 'Heatmap of anomaly scores' }).waitFor();
    await result.getByLabel('Heatmap opacity').fill('0.8');
    expect(
      await result
        .getByRole('img', { name: 'Heatmap of anomaly scores' })
        .evaluate((img) => (globalThis as any).getComputedStyle(img).opacity),
    ).toBe('0.8');
    await result.getByRole('img', { name: 'Anomaly mask of anomaly-1.jpg' }).waitFor();
    await result.getByRole('img', { name: /^Nearest normal patch, in .*normal-\d+\.jpg$/ }).waitFor();
  });

  it('reviews the result in the gallery, with the chart and a detail view', async () => {
    await openTab(page, 'Results');
    await page.getByRole('img', { name: /^Scores over time: 1 results, 1 at or above the threshold/ }).waitFor();
    const card = page
      .getByRole('list', { name: 'Results' })
      .getByRole('link', { name: /^anomaly-1\.jpg: (Overloway|Faulty), score [01]\.\d{3}$/ });
    await page.getByLabel('Anomalous only').check();
    await card.waitFor();
    await page.getByLabel('Band').selectOption('Normal');
    await page.getByRole('heading', { name: 'No results match these filters' }).waitFor();
    await page.getByLabel('Band').selectOption('');
    await card.click();
    await page.getByRole('heading', { name: 'Result', level: 1 }).waitFor();
    await page
      .getByRole('article', { name: 'Result for anomaly-1.jpg' })
      .getByText(/^Box 1:/)
      .waitFor();
  });

  it('reviews the result by keyboard, shows precision and recall, and recalibrates on the confirmed defect', async () => {
    const review = page.getByRole('region', { name: 'Review', exact: true });
    await review.getByText(/^Not reviewed yet\. The model flagged this part/).waitFor();
    await page.keyboard.press('d');
    await review.getByText(/^Reviewed defect by \S+, /).waitFor();
    expect(await review.getByRole('button', { name: /^Defect/ }).getAttribute('aria-pressed')).toBe('true');
    await openTab(page, 'Reviews');
    await page.getByRole('img', { name: /^Precision and recall from reviews over 1 periods for v1$/ }).waitFor();
    const row = page.getByRole('row', { name: /v1 1 1 0 0 100% 100%$/ });
    await row.waitFor();
    await page.getByRole('button', { name: 'Recalibrate on confirmed defects' }).click();
    await page.getByText(/^Model v2 \(from v1\) is ready and active/).waitFor({ timeout: TRAINING_TIMEOUT_MS });
    await page.getByRole('button', { name: 'Go back to v1' }).click();
    await page.getByText('Model v1 is active again.').waitFor();
    await page.getByText(/ images · model v1$/).waitFor(); // the project's side panel follows
  });

  it('changes the severity bands and webhook in the settings, and shows a refused value with the API message', async () => {
    await openTab(page, 'Settings');
    await page.getByLabel('Webhook URL').fill('https://example.com/hook');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved.').waitFor();
    await page.getByLabel('Band 2 up to (below)').fill('0.2');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('bands must increase');
  });

  it('deletes the project only after its name is typed', async () => {
    await page.getByRole('link', { name: 'Projects', exact: true }).first().click();
    await page.getByRole('button', { name: 'Delete Cookies line 1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete “Cookies line 1”?' });
    await dialog.getByLabel('Project name').fill('Cookies');
    expect(await dialog.getByRole('button', { name: 'Delete project' }).isDisabled()).toBe(true);
    await dialog.getByLabel('Project name').fill('Cookies line 1');
    await dialog.getByRole('button', { name: 'Delete project' }).click();
    await page.getByText('Project Cookies line 1 deleted.').waitFor({ state: 'attached' });
    await page.getByRole('heading', { name: 'No projects yet' }).waitFor();
  });

  it('sends the person back to sign-in with a message when the key stops working', async () => {
    await page.evaluate("sessionStorage.setItem('faultline.apiKey', 'flk_revoked')");
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Faultline' }).waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^Please sign in again: /);
    // the only failed requests: the wrong keys (401) and the refused bands (400)
    expect(consoleErrors.filter((e) => !/status of (401|400)/.test(e))).toEqual([]);
  });
});

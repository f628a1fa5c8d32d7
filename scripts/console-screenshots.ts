/**
 * `npm run screenshots`: drives the web console through the same steps as its browser test (test/console) and
 * writes PNGs of the main screens to docs/screenshots/ (laptop width, and two at tablet width).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../functions/engine/paths.ts';
import { waitFor } from '../test/helpers/wait-for.ts';
import {
  COOKIE,
  CRACKED_COOKIE,
  cookieTrainingImages,
  createProject,
  openTab,
  signIn,
  startConsoleSession,
  testImages,
  train,
  uploadImages,
  waitForTraining,
} from '../test/console/console-flow.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const out = join(projectRoot(), 'docs', 'screenshots');
await mkdir(out, { recursive: true });
const session = await startConsoleSession({ width: 1280, height: 860 });
const { page, runtime } = session;
const shot = async (name: string, fullPage = true) => {
  // every image loaded (lazy ones come into view first), the fonts too
  await page.evaluate(() => (globalThis as any).scrollTo(0, (globalThis as any).document.body.scrollHeight));
  await page.waitForFunction(
    () => [...(globalThis as any).document.images].every((img: any) => img.complete),
    undefined,
    { timeout: 30_000 },
  );
  await page.evaluate(() => (globalThis as any).document.fonts.ready);
  await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
  await page.screenshot({ path: join(out, `${name}.png`), fullPage });
  process.stdout.write(`docs/screenshots/${name}.png\n`);
};

try {
  await signIn(page, runtime);
  await createProject(page, 'Tyres, line 2');
  await page.getByRole('link', { name: 'Projects', exact: true }).first().click();
  const projectId = await createProject(page, 'Cookies, line 1');
  await uploadImages(page, cookieTrainingImages());
  await shot('dataset');

  await train(page);
  await waitForTraining(page);
  await page.getByLabel('Model v1').waitFor();
  await shot('training');

  await testImages(page, [CRACKED_COOKIE]);
  await shot('test-result');

  // A drop-folder batch, for the gallery and its chart.
  const drops = [
    'cracked/anomaly-2.jpg',
    'good/test-normal-1.jpg',
    'cracked/anomaly-5.jpg',
    'good/test-normal-2.jpg',
    'cracked/anomaly-9.jpg',
    'good/test-normal-4.jpg',
  ];
  for (const [i, file] of drops.entries()) {
    await runtime.services.objects.put(
      `inbox/${projectId}/line-1/photo-${i + 1}.jpg`,
      await readFile(join(COOKIE, 'test', file)),
      'image/jpeg',
    );
  }
  await waitFor(
    'the drop-folder results',
    async () =>
      (await runtime.services.results.batch(projectId, 'line-1')).length === drops.length ? true : undefined,
    120_000,
  );
  await openTab(page, 'Results');
  await page.getByRole('list', { name: 'Results' }).waitFor();
  await shot('results');

  await page
    .getByRole('list', { name: 'Results' })
    .getByRole('link', { name: /^line-1\/photo-5\.jpg/ })
    .click();
  await page.getByRole('heading', { name: 'Result', level: 1 }).waitFor();
  await shot('result-detail');

  await openTab(page, 'Settings');
  await shot('settings');

  await page.getByRole('link', { name: 'Projects', exact: true }).first().click();
  await page.getByRole('list').filter({ hasText: 'Cookies, line 1' }).waitFor();
  await shot('projects');

  await page.setViewportSize({ width: 768, height: 1024 });
  await page.getByRole('link', { name: 'Cookies, line 1' }).click();
  await openTab(page, 'Results');
  await page.getByRole('list', { name: 'Results' }).waitFor();
  await shot('tablet-results', false);
  await page
    .getByRole('list', { name: 'Results' })
    .getByRole('link', { name: /^anomaly-1\.jpg/ })
    .click();
  await page.getByRole('heading', { name: 'Result', level: 1 }).waitFor();
  await shot('tablet-result-detail');
} finally {
  await session.close();
}

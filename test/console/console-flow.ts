import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { sharedDir } from '../../functions/engine/paths.ts';
import { loadLocalSettings, isolatedRuntimeEnv } from '../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { type Browser, launchChromium } from './browser.ts';

/**
 * The web console driven as a person would, step by step: shared by the browser test (which asserts on each step)
 * and the screenshot script (which photographs them). Selectors are by role and label, so they check accessibility.
 */

export const COOKIE = join(sharedDir(), 'datasets', 'cookie');
export const COOKIE_TRAIN = join(COOKIE, 'train', 'good');
export const CRACKED_COOKIE = join(COOKIE, 'test', 'cracked', 'anomaly-1.jpg');
export const cookieTrainingImages = (): string[] =>
  readdirSync(COOKIE_TRAIN)
    .sort()
    .map((f) => join(COOKIE_TRAIN, f));

/** Training 31 images on 2 shared cores takes a while. */
export const TRAINING_TIMEOUT_MS = 240_000;

export interface ConsoleSession {
  runtime: LocalRuntime;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/** The local runtime in this process (free ports, a temporary data folder) and Chromium with one page. */
export async function startConsoleSession(viewport?: { width: number; height: number }): Promise<ConsoleSession> {
  const dataDir = await mkdtemp(join(tmpdir(), 'faultline-console-'));
  const settings = loadLocalSettings({
    ...isolatedRuntimeEnv(dataDir),
    FAULTLINE_ACCESS_LOG: 'false',
  });
  const runtime = await startLocalRuntime(settings, silentLog);
  let browser: Browser;
  try {
    browser = await launchChromium(viewport);
  } catch (error) {
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(30_000);
  return {
    runtime,
    browser,
    page,
    async close() {
      await browser.close();
      await runtime.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the form with the runtime's key, and waits for the projects. */
export async function signIn(page: Page, runtime: LocalRuntime): Promise<void> {
  await page.goto(`${runtime.url}/`);
  await page.getByLabel('API key').fill(runtime.apiKey!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
}

/** Creates a project from the projects page; the console opens its images. Returns the project id. */
export async function createProject(page: Page, name: string): Promise<string> {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByRole('heading', { name: 'Normal images', level: 1 }).waitFor();
  return new URL(page.url()).pathname.split('/')[2]!;
}

/** Opens one of the project's screens from its navigation. */
export async function openTab(
  page: Page,
  tab: 'Images' | 'Training' | 'Test' | 'Results' | 'Reviews' | 'Settings',
): Promise<void> {
  await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: tab, exact: true }).click();
}

/** Hands files to the images screen's drop zone (its file input), then waits until every one is added or rejected. */
export async function uploadImages(page: Page, files: string[]): Promise<void> {
  await page.getByLabel('Normal images to upload').setInputFiles(files);
  await page.getByRole('button', { name: 'Clear list' }).waitFor({ timeout: 60_000 });
}

/** Starts training and waits for it to finish (the progress bar shows meanwhile). */
export async function train(page: Page): Promise<void> {
  await openTab(page, 'Training');
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.getByRole('progressbar', { name: 'Training progress' }).waitFor();
}

export async function waitForTraining(page: Page): Promise<void> {
  await page.getByText(/Training finished: model v\d+ is ready/).waitFor({ timeout: TRAINING_TIMEOUT_MS });
}

/** Tests images on the test screen and waits for the result of the last one. */
export async function testImages(page: Page, files: string[]): Promise<void> {
  await openTab(page, 'Test');
  await page.getByLabel('Images to test').setInputFiles(files);
  await page
    .getByRole('article', { name: `Result for ${files[files.length - 1]!.split('/').pop()}` })
    .waitFor({ timeout: 60_000 });
}

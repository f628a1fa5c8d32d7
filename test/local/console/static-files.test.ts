import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticFiles, type StaticFilesOptions } from '../../../functions/local/console/static-files.ts';

/** A server answering with the static files, and 404 for what they do not handle (as the local runtime does). */
async function serve(o: StaticFilesOptions): Promise<{ url: string; server: Server }> {
  const handle = staticFiles(o);
  const server = createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('the static files: the web console and the API docs', () => {
  let dir: string;
  let built: { url: string; server: Server };
  let unbuilt: { url: string; server: Server };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-static-'));
    await mkdir(join(dir, 'dist', 'assets'), { recursive: true });
    await mkdir(join(dir, 'empty'));
    await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'dist', 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(dir, 'dist', 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(dir, 'secret.txt'), 'secret');
    built = await serve({ consoleDir: join(dir, 'dist'), s3Origin: 'http://127.0.0.1:4568', authRequired: true });
    unbuilt = await serve({ consoleDir: join(dir, 'empty') });
  });
  afterAll(async () => {
    built?.server.close();
    unbuilt?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the console page with strict security headers, never cached', async () => {
    const page = await fetch(`${built.url}/`);
    expect(await page.text()).toContain('<title>console</title>');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob: http://127.0.0.1:4568",
        "connect-src 'self' http://127.0.0.1:4568",
        "frame-ancestors 'none'",
        "object-src 'none'",
      ]),
    );
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers every other page path with the same page, so that the console’s own routes survive a reload', async () => {
    for (const path of ['/projects/8c1f/images', '/projects/8c1f/results/r_1', '/%2e%2e/secret.txt', '/index.html']) {
      const page = await fetch(`${built.url}${path}`);
      expect([path, page.status, await page.text()]).toEqual([path, 200, '<!doctype html><title>console</title>']);
    }
    const head = await fetch(`${built.url}/projects`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([
      200,
      'text/html; charset=utf-8',
      '',
    ]);
  });

  it('caches the hashed assets for a year, other files for an hour, and leaves API paths and missing assets alone', async () => {
    const asset = await fetch(`${built.url}/assets/index-abc123.js`);
    expect([asset.status, asset.headers.get('content-type'), asset.headers.get('cache-control')]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
    ]);
    const icon = await fetch(`${built.url}/favicon.svg`);
    expect([icon.headers.get('content-type'), icon.headers.get('cache-control')]).toEqual([
      'image/svg+xml',
      'public, max-age=3600',
    ]);
    expect((await fetch(`${built.url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${built.url}/api/v1/nothing`)).status).toBe(404);
    expect((await fetch(`${built.url}/projects`, { method: 'POST' })).status).toBe(404);
  });

  it('tells the console where the API is and whether it needs a key', async () => {
    const config = await fetch(`${built.url}/config.json`);
    expect([config.headers.get('cache-control'), await config.json()]).toEqual([
      'no-cache',
      { apiUrl: '', authRequired: true },
    ]);
  });

  it('says how to build the console when it is not built, and keeps the API docs', async () => {
    const page = await fetch(`${unbuilt.url}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('npm run build:console');
    expect(await (await fetch(`${unbuilt.url}/docs`)).text()).toContain('swagger-ui-bundle.js');
    const bundle = await fetch(`${unbuilt.url}/docs/swagger-ui-bundle.js`);
    expect([bundle.status, bundle.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect((await fetch(`${unbuilt.url}/docs/../package.json`)).status).not.toBe(200);
  });
});

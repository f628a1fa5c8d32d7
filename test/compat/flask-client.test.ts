import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COOKIE, startCompatRuntime } from './compat-runtime.ts';

/**
 * A client of the Flask PatchCore service, unchanged: multipart field "image", no key, its field names, its error
 * shape. Only the base URL is Faultline's.
 */
describe('a Flask PatchCore client', () => {
  let url: string;
  let stop: () => Promise<void>;
  const form = async (file: string) => {
    const body = new FormData();
    body.append('image', new Blob([await readFile(file)], { type: 'image/jpeg' }), 'img.jpg');
    return body;
  };
  const post = async (path: string, file: string) => fetch(`${url}${path}`, { method: 'POST', body: await form(file) });

  beforeAll(async () => {
    // A worker as well: it competes for the training job /load_reference runs itself, and only one may run it.
    const started = await startCompatRuntime('flask', { FAULTLINE_WORKERS: '1' });
    url = started.runtime.url;
    stop = started.stop;
  }, 60_000);
  afterAll(async () => stop?.());

  it('reads errors as {status: "error", message} before a reference is loaded', async () => {
    const res = await post('/infer_json', join(COOKIE, 'test', 'cracked', 'anomaly-1.jpg'));
    expect(res.status).toBe(409);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.status).toBe('error');
    expect(body.message).toMatch(/no trained model/);
    const health = (await (await fetch(`${url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', model: 'PatchCore', memory_bank_loaded: false, device: 'cpu' });
  });

  it('loads one reference, then another, and the bank grows', async () => {
    const first = await post('/load_reference', join(COOKIE, 'train', 'good', 'normal-1.jpg'));
    const one = (await first.json()) as Record<string, number | string>;
    expect(first.status, JSON.stringify(one)).toBe(200);
    expect(one).toMatchObject({ status: 'success', references: 1 });
    expect(one.patches).toBeGreaterThan(0);
    expect(one.feature_dim).toBeGreaterThan(0);
    const second = await post('/load_reference', join(COOKIE, 'train', 'good', 'normal-2.jpg'));
    const two = (await second.json()) as Record<string, number>;
    expect(two).toMatchObject({ status: 'success', references: 2, feature_dim: one.feature_dim });
    expect(two.patches).toBeGreaterThan(one.patches as number);
    const health = (await (await fetch(`${url}/health`)).json()) as Record<string, unknown>;
    expect(health.memory_bank_loaded).toBe(true);
  }, 60_000);

  it('answers /infer with the overlay PNG at the image size, /infer_json with a fetchable output_image', async () => {
    const image = join(COOKIE, 'test', 'cracked', 'anomaly-1.jpg');
    const res = await post('/infer', image);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(png).metadata();
    const source = await sharp(image).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', source.width, source.height]);

    const json = await post('/infer_json', image);
    const body = (await json.json()) as Record<string, unknown>;
    expect(json.status).toBe(200);
    expect(Object.keys(body)).toEqual(
      expect.arrayContaining(['status', 'damage_percentage', 'anomaly_detected', 'output_image', 'threshold']),
    );
    expect(typeof body.anomaly_detected).toBe('boolean');
    const overlay = await fetch(body.output_image as string);
    expect(overlay.status).toBe(200);
    expect((await sharp(Buffer.from(await overlay.arrayBuffer())).metadata()).format).toBe('png');
  }, 30_000);

  it('refuses what is not an image, in its error shape', async () => {
    const body = new FormData();
    body.append('image', new Blob([Buffer.from('not an image')], { type: 'text/plain' }), 'a.txt');
    const res = await fetch(`${url}/infer`, { method: 'POST', body });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(((await res.json()) as { status: string }).status).toBe('error');
    const missing = await fetch(`${url}/load_reference`, { method: 'POST', body: new FormData() });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { status: string }).status).toBe('error');
  });
});

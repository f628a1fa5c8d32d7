import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CELL_TABLE_FILE } from '../../functions/engine/artifact/artifact-manifest.ts';
import { sharedDir } from '../../functions/engine/paths.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { modelPrefix } from '../../functions/service/object-keys.ts';
import { FAILED_LOAD_REMEMBERED_MS } from '../../functions/service/models/loaded-models.ts';
import { animatedGif, pngHeaderOnly } from '../helpers/images.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { waitFor } from '../helpers/wait-for.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');
const MAX_BODY = 2 * 1024 * 1024;

/**
 * Every kind of bad input the issue lists, sent through HTTP to the local runtime with a trained model: each gets a
 * 4xx with a JSON error that names the problem, and the service answers the next request as before.
 */
describe.skipIf(!existsSync(cookie))('bad input', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let projectId: string;
  let cracked: Buffer;

  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${runtime.url}${path}`, {
      ...init,
      headers: { 'x-api-key': runtime.apiKey!, ...(init.headers as Record<string, string>) },
    });
    const text = await response.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, body, type: response.headers.get('content-type') ?? '' };
  };
  const json = (method: string, path: string, body: string, type = 'application/json') =>
    call(path, { method, headers: { 'content-type': type }, body });
  const detect = (bytes: Uint8Array, name = 'image.jpg', project = projectId) => {
    const form = new FormData();
    form.append('file', new Blob([bytes]), name);
    form.append('return_visualizations', 'false');
    return call(`/api/v1/projects/${project}/detect`, { method: 'POST', body: form });
  };
  /** A 4xx JSON error with this code, and the service still answers. */
  const expectError = async (
    answer: { status: number; body: any; type: string },
    status: number,
    code: string | RegExp,
  ) => {
    expect(answer.type).toMatch(/^application\/json/);
    expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({
      status,
      code: typeof code === 'string' ? code : expect.stringMatching(code),
    });
    expect(answer.body.error.message.length).toBeGreaterThan(10);
    expect((await call('/health')).status).toBe(200);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-bad-input-'));
    runtime = await startLocalRuntime(
      testSettings(dataDir, { FAULTLINE_ACCESS_LOG: 'false', FAULTLINE_MAX_BODY_BYTES: String(MAX_BODY) }),
      silentLog,
    );
    projectId = (await json('POST', '/api/v1/projects', JSON.stringify({ name: 'bad input' }))).body.id;
    const form = new FormData();
    const train = join(cookie, 'train', 'good');
    for (const f of readdirSync(train).slice(0, 12))
      form.append('files', new Blob([await readFile(join(train, f))]), f);
    expect((await call(`/api/v1/projects/${projectId}/images`, { method: 'POST', body: form })).body.imageCount).toBe(
      12,
    );
    const job = (await call(`/api/v1/projects/${projectId}/train`, { method: 'POST' })).body;
    await waitFor(
      'training',
      async () => ((await call(`/api/v1/jobs/${job.id}`)).body.status === 'SUCCEEDED' ? true : undefined),
      120_000,
    );
    cracked = await readFile(join(cookie, 'test', 'cracked', 'anomaly-2.jpg'));
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('empty bodies, wrong content types, malformed JSON and fields of the wrong type', async () => {
    await expectError(
      await call('/api/v1/projects', { method: 'POST', headers: { 'content-type': 'application/json' } }),
      400,
      'EMPTY_BODY',
    );
    // a multipart body whose part header is folded (what crashes dicer, CVE-2022-24434)
    const folded = `--b\r\n Content-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\nxx\r\n--b--`;
    await expectError(
      await call(`/api/v1/projects/${projectId}/detect`, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=b' },
        body: folded,
      }),
      400,
      /VALIDATION_FAILED|BAD_REQUEST/,
    );
    await expectError(
      await call(`/api/v1/projects/${projectId}/detect`, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
      }),
      400,
      /EMPTY_BODY|BAD_REQUEST/,
    );
    await expectError(await json('POST', '/api/v1/projects', 'name=x', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectError(
      await json('POST', `/api/v1/projects/${projectId}/detect`, '{"file":"x"}'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await expectError(await json('POST', '/api/v1/projects', '{"name": "x",'), 400, 'MALFORMED_JSON');
    const wrongTypes = await json(
      'POST',
      '/api/v1/projects',
      JSON.stringify({ name: 42, threshold: 'high', severityBands: {} }),
    );
    await expectError(wrongTypes, 400, 'VALIDATION_FAILED');
    expect(wrongTypes.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'name',
      'severityBands',
      'threshold',
    ]);
    await expectError(
      await json('PATCH', `/api/v1/projects/${projectId}`, JSON.stringify({ unknownField: true })),
      400,
      'VALIDATION_FAILED',
    );
    await expectError(await call(`/api/v1/projects/${projectId}/results?limit=lots`), 400, 'VALIDATION_FAILED');
  });

  it('images that are not images, are cut short, animated or too large to decode', async () => {
    await expectError(
      await detect(Buffer.from('just some text, not a photo\n'), 'photo.jpg'),
      415,
      'UNSUPPORTED_IMAGE',
    );
    await expectError(await detect(Buffer.alloc(0), 'empty.jpg'), 400, /EMPTY_IMAGE|VALIDATION_FAILED/);
    await expectError(
      await detect(cracked.subarray(0, Math.floor(cracked.length * 0.6)), 'cut.jpg'),
      422,
      'CORRUPT_IMAGE',
    );
    const png = await sharp(cracked).png().toBuffer();
    await expectError(await detect(png.subarray(0, Math.floor(png.length * 0.6)), 'cut.png'), 422, 'CORRUPT_IMAGE');
    // a decompression bomb: under 100 bytes that declare 400 megapixels, refused from the header
    const bomb = pngHeaderOnly(20_000, 20_000);
    expect(bomb.length).toBeLessThan(100);
    await expectError(await detect(bomb, 'bomb.png'), 413, 'IMAGE_TOO_LARGE');
    await expectError(await detect(await animatedGif(3, 64), 'moving.gif'), 415, 'UNSUPPORTED_IMAGE');
  });

  it('accepts 16-bit PNG and CMYK JPEG (converted), and answers boxes in the displayed orientation of an EXIF-rotated photo', async () => {
    const upright = await detect(cracked);
    expect(upright.status).toBe(200);
    const sixteen = await detect(await sharp(cracked).toColourspace('rgb16').png().toBuffer(), 'deep.png');
    expect(sixteen.status).toBe(200);
    expect(sixteen.body.is_anomalous).toBe(upright.body.is_anomalous);
    const cmyk = await detect(await sharp(cracked).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(), 'print.jpg');
    expect(cmyk.status).toBe(200);
    expect(cmyk.body.image).toMatchObject({ width: 288, height: 384, format: 'jpeg' });
    // stored turned a quarter to the left, with EXIF orientation 6 (turn right to display): displayed as the original
    const stored = await sharp(cracked).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(stored).metadata()).width).toBe(384);
    const rotated = await detect(stored, 'phone.jpg');
    expect(rotated.status).toBe(200);
    expect(rotated.body.image).toMatchObject({ width: 288, height: 384 });
    expect(rotated.body.bounding_boxes.length).toBeGreaterThan(0);
    const [a, b] = [upright.body.bounding_boxes[0], rotated.body.bounding_boxes[0]];
    const centre = (box: { x: number; y: number; width: number; height: number }) => [
      box.x + box.width / 2,
      box.y + box.height / 2,
    ];
    const [[ax, ay], [bx, by]] = [centre(a), centre(b)];
    expect(Math.hypot(ax! - bx!, ay! - by!)).toBeLessThan(12);
  });

  it('uploads over the size limit, too many files, unknown projects and models, a project with no model', async () => {
    const big = new FormData();
    big.append('file', new Blob([Buffer.alloc(MAX_BODY + 1024, 7)]), 'big.jpg');
    await expectError(
      await call(`/api/v1/projects/${projectId}/detect`, { method: 'POST', body: big }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const many = new FormData();
    for (let i = 0; i < 51; i++) many.append('files', new Blob([Buffer.from('x')]), `${i}.jpg`);
    await expectError(
      await call(`/api/v1/projects/${projectId}/images`, { method: 'POST', body: many }),
      413,
      'TOO_MANY_FILES',
    );
    await expectError(await detect(cracked, 'a.jpg', '3f0e3d8e-8a43-4b5e-9d0c-000000000000'), 404, 'PROJECT_NOT_FOUND');
    await expectError(await call(`/api/v1/projects/${projectId}/models/99`), 404, 'MODEL_NOT_FOUND');
    const empty = (await json('POST', '/api/v1/projects', JSON.stringify({ name: 'no model yet' }))).body.id;
    await expectError(await detect(cracked, 'a.jpg', empty), 409, 'NO_ACTIVE_MODEL');
    await expectError(await call(`/api/v1/projects/${empty}/train`, { method: 'POST' }), 409, 'NOT_ENOUGH_IMAGES');
  });

  it('keeps odd names and path tricks inside the project: traversal in file names, odd characters, encoded ids', async () => {
    const form = new FormData();
    for (const name of ['../../../etc/passwd.jpg', '..\\..\\win.jpg', 'naïve façade ✓ #1?.jpg', '%2e%2e%2fx.jpg'])
      form.append('files', new Blob([cracked]), name);
    const uploaded = await call(`/api/v1/projects/${projectId}/images`, { method: 'POST', body: form });
    expect(uploaded.status).toBe(200);
    expect(uploaded.body.accepted).toHaveLength(4);
    for (const a of uploaded.body.accepted as { key: string }[]) {
      expect(a.key.startsWith(`datasets/${projectId}/`)).toBe(true);
      expect(a.key.slice(`datasets/${projectId}/`.length)).not.toMatch(/\.\.|\/|\\/);
    }
    await expectError(await call(`/api/v1/projects/..%2F..%2Fmodels`), 400, 'VALIDATION_FAILED');
    await expectError(await call(`/api/v1/projects/${projectId}%2F..%2Fother/results`), 400, 'VALIDATION_FAILED');
    await expectError(
      await json('POST', '/api/v1/projects', JSON.stringify({ name: 'a/b\u0000' })),
      400,
      'VALIDATION_FAILED',
    );
    // a drop-folder key with odd characters and an encoded traversal is taken literally, inside the project's results
    // (S3 clients resolve literal /../ segments in the URL before the key reaches the bucket)
    await runtime.services.objects.put(`inbox/${projectId}/line 1/..%2F..%2Fodd ✓ #1?&.jpg`, cracked, 'image/jpeg');
    const result = await waitFor('the odd key to be detected', async () => {
      const items = (await call(`/api/v1/projects/${projectId}/results?limit=100`)).body.items as {
        source: { key: string };
        resultKey: string;
      }[];
      return items.find((r) => r.source.key?.includes('odd ✓'));
    });
    expect(result.resultKey.startsWith(`results/${projectId}/`)).toBe(true);
  });

  it('a corrupt or foreign model artifact: 409 that says so, and it heals once repaired', async () => {
    const bank = `${modelPrefix(projectId, 1)}bank.f32`;
    const good = (await runtime.services.objects.get(bank))!;
    const flipped = Buffer.from(good);
    flipped[100] ^= 0xff;
    await runtime.services.objects.put(bank, flipped, 'application/octet-stream');
    await runtime.services.modelCache.evictProject(projectId);
    const corrupt = await detect(cracked);
    await expectError(corrupt, 409, 'MODEL_UNUSABLE');
    expect(corrupt.body.error.message).toContain('integrity');
    await runtime.services.objects.put(bank, good, 'application/octet-stream');
    // The cell table stored with the bank is checked as the bank is.
    const cells = `${modelPrefix(projectId, 1)}${CELL_TABLE_FILE}`;
    const goodCells = (await runtime.services.objects.get(cells))!;
    const flippedCells = Buffer.from(goodCells);
    flippedCells[40] ^= 0x01;
    await runtime.services.objects.put(cells, flippedCells, 'application/octet-stream');
    await runtime.services.modelCache.evictProject(projectId);
    const corruptCells = await detect(cracked);
    await expectError(corruptCells, 409, 'MODEL_UNUSABLE');
    expect(corruptCells.body.error.message).toContain('integrity');
    await runtime.services.objects.put(cells, goodCells, 'application/octet-stream');
    const manifestKey = `${modelPrefix(projectId, 1)}manifest.json`;
    const manifest = Buffer.from((await runtime.services.objects.get(manifestKey))!);
    await runtime.services.objects.put(bank, good, 'application/octet-stream');
    await runtime.services.objects.put(
      manifestKey,
      JSON.stringify({ ...JSON.parse(manifest.toString('utf8')), formatVersion: 999 }),
      'application/json',
    );
    await runtime.services.modelCache.evictProject(projectId);
    const foreign = await detect(cracked);
    await expectError(foreign, 409, 'MODEL_UNUSABLE');
    expect(foreign.body.error.message).toContain('another version');
    await runtime.services.objects.put(manifestKey, manifest, 'application/json');
    // The failure is remembered for a while (not fetched again on every call), then the repaired model loads.
    await expectError(await detect(cracked), 409, 'MODEL_UNUSABLE');
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + FAILED_LOAD_REMEMBERED_MS });
    try {
      expect((await detect(cracked)).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an S3 event for an object that no longer exists: the job fails with the reason, nothing else happens', async () => {
    const key = `inbox/${projectId}/gone/vanished.jpg`;
    await runtime.services.queue.send({
      Records: [
        { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'faultline' }, object: { key, eTag: 'deadbeef' } } },
      ],
    });
    const job = await waitFor('the job to end', async () => {
      const jobs = (await call(`/api/v1/projects/${projectId}/jobs?limit=100`)).body.items as {
        input: { key?: string };
        status: string;
        error: { code: string; message: string };
      }[];
      const j = jobs.find((x) => x.input.key === key);
      return j && j.status !== 'RUNNING' && j.status !== 'QUEUED' ? j : undefined;
    });
    expect(job.status).toBe('FAILED');
    expect(job.error.message).toContain('no longer exists');
    expect((await call(`/api/v1/projects/${projectId}/batches/gone`)).body.total_images).toBe(0);
    // and a dataset event for a deleted object registers nothing
    const before = (await call(`/api/v1/projects/${projectId}`)).body.imageCount;
    await runtime.services.queue.send({
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'faultline' }, object: { key: `datasets/${projectId}/never-there.jpg`, eTag: 'x' } },
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 3000));
    expect((await call(`/api/v1/projects/${projectId}`)).body.imageCount).toBe(before);
  });
});

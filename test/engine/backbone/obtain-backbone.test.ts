import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackboneManifest } from '../../../functions/engine/backbone/backbone-manifest.ts';
import { FEATURES_OUTPUT } from '../../../functions/engine/backbone/feature-model.ts';
import { prepareBackbone, type PrepareOptions } from '../../../functions/engine/backbone/obtain-backbone.ts';
import { BackboneError } from '../../../functions/engine/errors.ts';
import { createSession } from '../../../functions/engine/onnx/create-session.ts';
import { buildTinyBackbone, sha256Hex, TINY_SIZE, tinyManifest } from './tiny-backbone.ts';

const REAL_MODEL = '/work/shared/models/mobilenetv2-12-int8.onnx';
const ENV_KEYS = ['FAULTLINE_CACHE_DIR', 'FAULTLINE_MODELS_DIR', 'FAULTLINE_SHARED_DIR'] as const;

const MODEL = buildTinyBackbone();
const MANIFEST = tinyManifest(MODEL);

let root: string;
let cache: string;
let models: string;
let manifestPath: string;
const savedEnv: Partial<Record<(typeof ENV_KEYS)[number], string | undefined>> = {};

async function writeManifest(manifest: BackboneManifest): Promise<string> {
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
  return manifestPath;
}

/** A fetch stand-in that answers every request with `body` (or a status), recording the URLs asked for. */
function fakeFetch(respond: () => Response): PrepareOptions['fetchImpl'] & { mock: { calls: unknown[][] } } {
  return vi.fn(async (_input: string | URL | Request) => respond()) as unknown as PrepareOptions['fetchImpl'] & {
    mock: { calls: unknown[][] };
  };
}

async function expectBackboneError(promise: Promise<unknown>, code: string): Promise<BackboneError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BackboneError);
  expect((error as BackboneError).code).toBe(code);
  return error as BackboneError;
}

beforeEach(async () => {
  for (const key of ENV_KEYS) savedEnv[key] = process.env[key];
  root = await mkdtemp(join(tmpdir(), 'faultline-backbone-'));
  cache = join(root, 'cache');
  models = join(root, 'models');
  const shared = join(root, 'shared'); // empty: the real shared folder must not be found
  await mkdir(models, { recursive: true });
  await mkdir(shared, { recursive: true });
  manifestPath = join(root, 'tiny-test.json');
  process.env.FAULTLINE_CACHE_DIR = cache;
  process.env.FAULTLINE_MODELS_DIR = models;
  process.env.FAULTLINE_SHARED_DIR = shared;
});

afterEach(async () => {
  for (const key of ENV_KEYS) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
  await rm(root, { recursive: true, force: true });
});

describe('prepareBackbone with a local file', () => {
  it('uses a file in FAULTLINE_MODELS_DIR with the right digest and derives a working feature model', async () => {
    await writeFile(join(models, MANIFEST.file), MODEL);
    const fetchImpl = fakeFetch(() => new Response('unexpected', { status: 500 }));
    const prepared = await prepareBackbone({ backbone: await writeManifest(MANIFEST), fetchImpl });

    expect(fetchImpl.mock.calls).toHaveLength(0);
    expect(prepared.backbonePath).toBe(join(models, MANIFEST.file));
    expect(prepared.manifest.id).toBe('tiny-test');
    expect(prepared.layers.map((l) => l.tensor)).toEqual(['a', 'b']);
    expect(prepared.grid).toBe(16);
    expect(prepared.channels).toBe(5);
    expect(prepared.featureModelPath.startsWith(join(cache, 'features'))).toBe(true);
    expect(existsSync(prepared.featureModelPath)).toBe(true);

    const session = await createSession(prepared.featureModelPath, { providers: ['cpu'], threads: 1 });
    try {
      const out = await session.run({
        input: new ort.Tensor('float32', new Float32Array(3 * TINY_SIZE * TINY_SIZE).fill(0.5), [
          1,
          3,
          TINY_SIZE,
          TINY_SIZE,
        ]),
      });
      expect(out[FEATURES_OUTPUT].dims).toEqual([1, prepared.grid, prepared.grid, prepared.channels]);
    } finally {
      await session.release();
    }
  });

  it('honours explicit layers: grid from the finest, channels summed, a distinct cached feature model', async () => {
    await writeFile(join(models, MANIFEST.file), MODEL);
    const path = await writeManifest(MANIFEST);
    const both = await prepareBackbone({ backbone: path });
    const coarse = await prepareBackbone({ backbone: path, layers: ['b'] });
    expect(coarse.grid).toBe(8);
    expect(coarse.channels).toBe(3);
    expect(coarse.featureModelPath).not.toBe(both.featureModelPath);
    expect(existsSync(coarse.featureModelPath)).toBe(true);
  });

  it('caches a feature model per aggregation, keeping the default 3 at its old key', async () => {
    await writeFile(join(models, MANIFEST.file), MODEL);
    const path = await writeManifest(MANIFEST);
    const byDefault = await prepareBackbone({ backbone: path });
    const three = await prepareBackbone({ backbone: path, aggregation: 3 });
    const five = await prepareBackbone({ backbone: path, aggregation: 5 });
    expect(byDefault.aggregation).toBe(3);
    expect(three.featureModelPath).toBe(byDefault.featureModelPath);
    expect(five.aggregation).toBe(5);
    expect(five.featureModelPath).not.toBe(byDefault.featureModelPath);
    expect(existsSync(five.featureModelPath)).toBe(true);
  });

  it('refuses a layer the manifest does not list', async () => {
    await writeFile(join(models, MANIFEST.file), MODEL);
    const error = await expectBackboneError(
      prepareBackbone({ backbone: await writeManifest(MANIFEST), layers: ['nope'] }),
      'BACKBONE_TENSOR_NOT_FOUND',
    );
    expect(error.message).toContain('nope');
  });

  it('refuses a local file whose digest differs, naming the file and the expected digest', async () => {
    const other = buildTinyBackbone({ opset: 12 }); // a valid model, but not the one the manifest pins
    await writeFile(join(models, MANIFEST.file), other);
    const fetchImpl = fakeFetch(() => new Response(MODEL));
    const error = await expectBackboneError(
      prepareBackbone({ backbone: await writeManifest(MANIFEST), fetchImpl }),
      'BACKBONE_DIGEST_MISMATCH',
    );
    expect(error.message).toContain(join(models, MANIFEST.file));
    expect(error.message).toContain(MANIFEST.sha256);
    expect(error.message).toContain(sha256Hex(other));
    expect(error.details).toMatchObject({ expected: MANIFEST.sha256, actual: sha256Hex(other) });
    expect(fetchImpl.mock.calls).toHaveLength(0); // a wrong local file is an error, not a reason to download
    expect(existsSync(join(cache, 'features'))).toBe(false);
  });

  it('refuses a manifest file that does not match the schema', async () => {
    await writeFile(manifestPath, JSON.stringify({ ...MANIFEST, input: { ...MANIFEST.input, size: 30 } }));
    const error = await expectBackboneError(prepareBackbone({ backbone: manifestPath }), 'BACKBONE_MANIFEST_INVALID');
    expect(error.message).toContain(manifestPath);
  });

  it('reports BACKBONE_NOT_FOUND for a manifest path that does not exist', async () => {
    await expectBackboneError(prepareBackbone({ backbone: join(root, 'absent.json') }), 'BACKBONE_NOT_FOUND');
  });
});

describe('prepareBackbone downloading', () => {
  const cachedFile = () => join(cache, 'backbones', MANIFEST.file);

  it('downloads a missing file through fetchImpl, checks it, caches it and does not fetch again', async () => {
    const fetchImpl = fakeFetch(() => new Response(MODEL, { headers: { 'content-length': String(MODEL.byteLength) } }));
    const progress: [number, number | undefined][] = [];
    const path = await writeManifest(MANIFEST);
    const first = await prepareBackbone({ backbone: path, fetchImpl, onDownload: (r, t) => progress.push([r, t]) });

    expect(fetchImpl.mock.calls).toHaveLength(1);
    expect(String(fetchImpl.mock.calls[0][0])).toBe(MANIFEST.url);
    expect(first.backbonePath).toBe(cachedFile());
    expect(sha256Hex(await readFile(cachedFile()))).toBe(MANIFEST.sha256);
    expect(progress.at(-1)).toEqual([MODEL.byteLength, MODEL.byteLength]);
    expect(await readdir(join(cache, 'backbones'))).toEqual([MANIFEST.file]); // no .partial left behind
    expect(first.grid).toBe(16);
    expect(existsSync(first.featureModelPath)).toBe(true);

    const second = await prepareBackbone({ backbone: path, fetchImpl });
    expect(fetchImpl.mock.calls).toHaveLength(1);
    expect(second.backbonePath).toBe(cachedFile());
    expect(second.featureModelPath).toBe(first.featureModelPath);
  });

  it('fetches again when the cached download is damaged', async () => {
    await mkdir(join(cache, 'backbones'), { recursive: true });
    await writeFile(cachedFile(), MODEL.subarray(0, 100));
    const fetchImpl = fakeFetch(() => new Response(MODEL));
    const prepared = await prepareBackbone({ backbone: await writeManifest(MANIFEST), fetchImpl });
    expect(fetchImpl.mock.calls).toHaveLength(1);
    expect(sha256Hex(await readFile(prepared.backbonePath))).toBe(MANIFEST.sha256);
  });

  it('reports BACKBONE_DOWNLOAD_FAILED for an HTTP 404 and leaves nothing in the cache', async () => {
    const fetchImpl = fakeFetch(() => new Response('not found', { status: 404, statusText: 'Not Found' }));
    const error = await expectBackboneError(
      prepareBackbone({ backbone: await writeManifest(MANIFEST), fetchImpl }),
      'BACKBONE_DOWNLOAD_FAILED',
    );
    expect(error.message).toContain('HTTP 404');
    expect(error.message).toContain(MANIFEST.url!);
    expect(await readdir(join(cache, 'backbones'))).toEqual([]);
  });

  it('reports BACKBONE_DOWNLOAD_FAILED when fetch itself rejects', async () => {
    const fetchImpl = vi.fn(async () => {
      throw new TypeError('fetch failed: getaddrinfo ENOTFOUND');
    }) as unknown as typeof fetch;
    const error = await expectBackboneError(
      prepareBackbone({ backbone: await writeManifest(MANIFEST), fetchImpl }),
      'BACKBONE_DOWNLOAD_FAILED',
    );
    expect(error.message).toContain('ENOTFOUND');
  });

  it('refuses a download with the wrong bytes and keeps nothing', async () => {
    const wrong = buildTinyBackbone({ opset: 12 });
    const fetchImpl = fakeFetch(() => new Response(wrong));
    const error = await expectBackboneError(
      prepareBackbone({ backbone: await writeManifest(MANIFEST), fetchImpl }),
      'BACKBONE_DIGEST_MISMATCH',
    );
    expect(error.message).toContain(MANIFEST.sha256);
    expect(error.details).toMatchObject({
      expected: MANIFEST.sha256,
      actual: sha256Hex(wrong),
      bytes: wrong.byteLength,
    });
    expect(await readdir(join(cache, 'backbones'))).toEqual([]);
    expect(existsSync(join(cache, 'features'))).toBe(false);
  });

  it('reports BACKBONE_NOT_FOUND when the file is nowhere and the manifest has no url', async () => {
    const { url: _url, ...noUrl } = MANIFEST;
    const fetchImpl = fakeFetch(() => new Response(MODEL));
    const error = await expectBackboneError(
      prepareBackbone({ backbone: await writeManifest(noUrl), fetchImpl }),
      'BACKBONE_NOT_FOUND',
    );
    expect(error.message).toContain(models);
    expect(fetchImpl.mock.calls).toHaveLength(0);
  });
});

describe('prepareBackbone with the real backbone', () => {
  it.skipIf(!existsSync(REAL_MODEL))(
    'finds mobilenetv2-12-int8 in the models folder: grid 28, 128 channels by default',
    async () => {
      process.env.FAULTLINE_MODELS_DIR = join(REAL_MODEL, '..');
      const fetchImpl = fakeFetch(() => new Response('unexpected', { status: 500 }));
      const prepared = await prepareBackbone({ fetchImpl });
      expect(fetchImpl.mock.calls).toHaveLength(0);
      expect(prepared.manifest.id).toBe('mobilenetv2-12-int8');
      expect(prepared.backbonePath).toBe(REAL_MODEL);
      expect(prepared.layers.map((l) => l.tensor)).toEqual(['365_quantized', '426_quantized']);
      expect(prepared.grid).toBe(28);
      expect(prepared.channels).toBe(128);
      expect(existsSync(prepared.featureModelPath)).toBe(true);
      expect(prepared.featureModelPath.startsWith(join(cache, 'features'))).toBe(true);
    },
  );
});

import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CELL_TABLE_FILE } from '../../functions/engine/artifact/artifact-manifest.ts';
import {
  MANIFEST_FILE,
  type ModelArtifact,
  saveModelArtifact,
} from '../../functions/engine/artifact/model-artifact.ts';
import { fileImage } from '../../functions/engine/dataset/image-source.ts';
import { sharedDir } from '../../functions/engine/paths.ts';
import { buildCellTable, DEFAULT_CELL_PROBE } from '../../functions/engine/search/cell-probe-search.ts';
import { NearestBankRows } from '../../functions/engine/search/nearest-neighbour-search.ts';
import { train } from '../../functions/engine/training/train.ts';
import { ServiceError } from '../../functions/service/errors.ts';
import { silentLog } from '../../functions/service/log.ts';
import { ARTIFACT_FILES, ModelCache, storedArtifactFiles } from '../../functions/service/models/model-cache.ts';
import { modelPrefix } from '../../functions/service/object-keys.ts';
import type { ObjectStore } from '../../functions/service/ports/object-store.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');

/** The model cache reads artifacts with `get` (and the download lists them with `head`) only: a map of stored objects stands in for the bucket. */
function bucket(): { objects: ObjectStore; stored: Map<string, Uint8Array> } {
  const stored = new Map<string, Uint8Array>();
  const objects = {
    get: async (key: string) => stored.get(key),
    head: async (key: string) => (stored.has(key) ? { size: stored.get(key)!.byteLength } : undefined),
  } as unknown as ObjectStore;
  return { objects, stored };
}

/** Cell tables built during `during`: NearestBankRows of the cell width (the re-weighting's support has 9). */
async function tablesBuilt<T>(during: () => Promise<T>): Promise<{ value: T; builds: number }> {
  const create = vi.spyOn(NearestBankRows, 'create');
  try {
    const value = await during();
    return { value, builds: create.mock.calls.filter((call) => call[3] === DEFAULT_CELL_PROBE.cellWidth).length };
  } finally {
    create.mockRestore();
  }
}

/** A trained model as the service stores it, its table kept, dropped (a model from before it was kept) or damaged. */
describe.skipIf(!existsSync(cookie))('the cell table stored with a trained model', () => {
  const projectId = 'p1';
  let artifact: ModelArtifact;
  let work: string;
  let cache: ModelCache;
  const { objects, stored } = bucket();
  const images = ['good/test-normal-1.jpg', 'cracked/anomaly-1.jpg', 'cracked/anomaly-2.jpg'];

  beforeAll(async () => {
    const names = readdirSync(join(cookie, 'train', 'good'))
      .sort()
      .slice(0, 3);
    ({ artifact } = await train(names.map((n) => fileImage(n, join(cookie, 'train', 'good', n)))));
    work = await mkdtemp(join(tmpdir(), 'faultline-cell-table-'));
    await saveModelArtifact(join(work, 'model'), artifact);
    const files = new Map<string, Uint8Array>();
    for (const file of ARTIFACT_FILES) files.set(file, await readFile(join(work, 'model', file)));
    const put = (version: number, file: string, bytes: Uint8Array) =>
      stored.set(`${modelPrefix(projectId, version)}${file}`, bytes);
    for (const [file, bytes] of files) put(1, file, bytes);
    // v2: as saved before the table was kept.
    const manifest = JSON.parse(new TextDecoder().decode(files.get(MANIFEST_FILE)));
    delete manifest.memoryBank.cells;
    for (const [file, bytes] of files) if (file !== CELL_TABLE_FILE) put(2, file, bytes);
    put(2, MANIFEST_FILE, new TextEncoder().encode(JSON.stringify(manifest)));
    // v3: one byte of the table flipped.
    for (const [file, bytes] of files) put(3, file, bytes);
    const damaged = Uint8Array.from(files.get(CELL_TABLE_FILE)!);
    damaged[8] ^= 0x01;
    put(3, CELL_TABLE_FILE, damaged);
    cache = new ModelCache(objects, join(work, 'cache'), 4, silentLog);
  }, 90_000);
  afterAll(async () => {
    await cache?.evictProject(projectId);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const scores = async (version: number) => {
    const detector = await cache.detector(projectId, version);
    const out: number[] = [];
    for (const image of images)
      out.push(
        (await detector.detect(await readFile(join(cookie, 'test', image)), { visualizations: false })).result
          .raw_score,
      );
    return out;
  };

  it('is stored as the table the search would build, and a load uses it without building one', async () => {
    const table = new Int32Array(Uint8Array.from(stored.get(`${modelPrefix(projectId, 1)}${CELL_TABLE_FILE}`)!).buffer);
    const { rows, dims } = artifact.manifest.memoryBank;
    expect(Array.from(table)).toEqual(Array.from((await buildCellTable(artifact.bank, rows, dims)).rows));
    const { builds } = await tablesBuilt(() => cache.detector(projectId, 1));
    expect(builds).toBe(0);
  });

  it('an older model without it still loads (building it) and detects the same scores', async () => {
    const { builds } = await tablesBuilt(() => cache.detector(projectId, 2));
    expect(builds).toBe(1);
    expect(await scores(2)).toEqual(await scores(1));
  });

  it('the download lists the table where the model has it, and not for an older model', async () => {
    expect(await storedArtifactFiles(objects, modelPrefix(projectId, 1))).toEqual(ARTIFACT_FILES);
    expect(ARTIFACT_FILES).toContain(CELL_TABLE_FILE);
    expect(await storedArtifactFiles(objects, modelPrefix(projectId, 2))).toEqual(
      ARTIFACT_FILES.filter((f) => f !== CELL_TABLE_FILE),
    );
  });

  it('a damaged table makes the model unusable, as a damaged bank does', async () => {
    const error = await cache.detector(projectId, 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: 'MODEL_UNUSABLE' });
    expect((error as Error).message).toContain('integrity');
  });
});

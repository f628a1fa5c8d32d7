import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ArtifactManifest,
  artifactManifestSchema,
  CELL_TABLE_FILE,
  modelQuality,
} from '../../../functions/engine/artifact/artifact-manifest.ts';
import {
  loadModelArtifact,
  MANIFEST_FILE,
  type ModelArtifact,
  saveModelArtifact,
  sealManifest,
} from '../../../functions/engine/artifact/model-artifact.ts';
import { buildCellTable } from '../../../functions/engine/search/cell-probe-search.ts';
import { defaultDetectionSettings } from '../../../functions/engine/detection/detection-settings.ts';
import { ModelArtifactError } from '../../../functions/engine/errors.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { judgeModelQuality } from '../../../functions/engine/training/model-quality.ts';
import { ARTIFACT_FORMAT, ARTIFACT_FORMAT_VERSION, ENGINE_VERSION } from '../../../functions/engine/version.ts';

const ROWS = 10;
const DIMS = 8;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A small but complete artifact, built the way train() builds one. */
function makeArtifact(seed = 1, version?: string): ModelArtifact {
  const random = seededRandom(seed);
  const bank = Float32Array.from({ length: ROWS * DIMS }, () => random() * 10 - 5);
  bank[3] = -0; // bit patterns must survive, not just values
  bank[4] = 1e-40; // a subnormal
  const sources = Uint32Array.from({ length: ROWS }, (_, i) => i * 97 + seed);
  sources[ROWS - 1] = 0xffffffff;
  const date = '2025-01-02T03:04:05.678Z';
  const manifest = sealManifest(
    {
      format: ARTIFACT_FORMAT,
      formatVersion: ARTIFACT_FORMAT_VERSION,
      engineVersion: ENGINE_VERSION,
      createdAt: date,
      ...(version ? { version } : {}),
      backbone: {
        id: 'mobilenetv2-12-int8',
        sha256: 'a'.repeat(64),
        layers: ['365_quantized', '426_quantized'],
        grid: 28,
        channels: DIMS,
      },
      preprocessing: {
        size: 224,
        resize: 'crop',
        resizeTo: 256,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
      },
      memoryBank: { rows: ROWS, dims: DIMS, coresetRatio: 0.1, projectionDims: 128, seed },
      scoring: { neighbours: 9, blurSigma: 4 },
      thresholds: {
        method: 'normal-sigma',
        image: { threshold: 2.5, min: 1, max: 4 },
        pixel: { threshold: 3, min: 0.5, max: 6 },
        calibrationImages: 3,
      },
      training: {
        images: 2,
        imageNames: ['good/000.png', 'good/001.png'],
        imageSizes: [
          [500, 500],
          [640, 480],
        ],
        heldOut: ['good/002.png'],
        durationMs: 1234,
        date,
      },
      metrics: { imageAuroc: 0.98, images: 12, source: 'test' },
      settings: defaultDetectionSettings(),
    },
    bank,
    sources,
  );
  return { manifest, bank, sources };
}

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'faultline-artifact-'));
  dir = join(root, 'model');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function expectArtifactError(promise: Promise<unknown>, code: string): Promise<ModelArtifactError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelArtifactError);
  expect((error as ModelArtifactError).code).toBe(code);
  return error as ModelArtifactError;
}

async function editManifest(edit: (json: Record<string, any>) => void): Promise<void> {
  const path = join(dir, MANIFEST_FILE);
  const json = JSON.parse(await readFile(path, 'utf8'));
  edit(json);
  await writeFile(path, JSON.stringify(json));
}

describe('sealManifest', () => {
  it('fills in the file names and the sha256 of the little-endian bank and sources bytes', () => {
    const { manifest, bank, sources } = makeArtifact();
    expect(manifest.memoryBank.file).toBe('bank.f32');
    expect(manifest.memoryBank.sourcesFile).toBe('bank-sources.u32');
    expect(manifest.memoryBank.sha256).toBe(sha256(new Uint8Array(bank.buffer)));
    expect(manifest.memoryBank.sourcesSha256).toBe(sha256(new Uint8Array(sources.buffer)));
    expect(artifactManifestSchema.safeParse(manifest).success).toBe(true);
  });

  it('digests only the view it is given, not the whole underlying buffer', () => {
    const big = new Float32Array(ROWS * DIMS + 16).fill(7);
    const view = big.subarray(8, 8 + ROWS * DIMS);
    const base = makeArtifact();
    const sealed = sealManifest(base.manifest, view, base.sources);
    expect(sealed.memoryBank.sha256).toBe(sha256(new Uint8Array(Float32Array.from(view).buffer)));
  });
});

describe('saveModelArtifact / loadModelArtifact', () => {
  it('round-trips exactly: bank bits, sources and manifest', async () => {
    const artifact = makeArtifact(3, 'v7');
    const saved = await saveModelArtifact(dir, artifact);
    expect((await readdir(dir)).sort()).toEqual(['bank-cells.i32', 'bank-sources.u32', 'bank.f32', 'manifest.json']);
    expect((await readFile(join(dir, 'bank.f32'))).byteLength).toBe(ROWS * DIMS * 4);
    expect(await readdir(root)).toEqual(['model']); // no temporary folder left beside it

    const loaded = await loadModelArtifact(dir);
    expect(loaded.bank).toBeInstanceOf(Float32Array);
    expect(loaded.sources).toBeInstanceOf(Uint32Array);
    expect(Buffer.from(loaded.bank.buffer, loaded.bank.byteOffset, loaded.bank.byteLength)).toEqual(
      Buffer.from(artifact.bank.buffer),
    );
    expect(Object.is(loaded.bank[3], -0)).toBe(true);
    expect(loaded.bank[4]).toBe(artifact.bank[4]);
    expect(Array.from(loaded.sources)).toEqual(Array.from(artifact.sources));
    expect(loaded.sources[ROWS - 1]).toBe(0xffffffff);
    expect(loaded.manifest).toEqual(saved.manifest);
    expect({ ...loaded.manifest, memoryBank: { ...loaded.manifest.memoryBank, cells: undefined } }).toEqual({
      ...artifact.manifest,
      memoryBank: { ...artifact.manifest.memoryBank, cells: undefined },
    });
    expect(loaded.manifest.version).toBe('v7');
  });

  it('a model saved before the quality verdict loads, and its verdict is judged from its counts', async () => {
    const artifact = makeArtifact(3);
    expect(artifact.manifest.training.quality).toBeUndefined();
    await saveModelArtifact(dir, artifact);
    const loaded = await loadModelArtifact(dir);
    // 3 calibration images held out: the spread has a sample, but the model had fewer than 5 training images.
    expect(modelQuality(loaded.manifest)).toMatchObject({ calibration: 'held-out', calibrationImages: 3 });
    const trained = judgeModelQuality({ trainImages: 1, calibrationImages: 7, calibration: 'augmented-views' });
    loaded.manifest.training.quality = trained;
    await saveModelArtifact(dir, loaded);
    expect(modelQuality((await loadModelArtifact(dir)).manifest)).toEqual(trained);
  });

  it('writes the manifest as the schema-parsed JSON', async () => {
    const artifact = makeArtifact();
    const saved = await saveModelArtifact(dir, artifact);
    const json = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    expect(json).toEqual(JSON.parse(JSON.stringify(artifactManifestSchema.parse(saved.manifest))));
    expect(json.format).toBe('faultline-patchcore');
    expect(json.formatVersion).toBe(1);
  });

  it('refuses to save a manifest that does not match the schema', async () => {
    const artifact = makeArtifact();
    const bad = {
      ...artifact,
      manifest: { ...artifact.manifest, memoryBank: { ...artifact.manifest.memoryBank, sha256: 'not-a-digest' } },
    };
    await expect(saveModelArtifact(dir, bad)).rejects.toThrow();
    expect(existsSync(dir)).toBe(false);
  });

  it('saving over an existing model replaces it entirely', async () => {
    await saveModelArtifact(dir, makeArtifact(1, 'v1'));
    await writeFile(join(dir, 'stray.txt'), 'left over from the old model');
    const second = makeArtifact(2, 'v2');
    await saveModelArtifact(dir, second);
    expect(existsSync(join(dir, 'stray.txt'))).toBe(false);
    expect(await readdir(root)).toEqual(['model']);
    const loaded = await loadModelArtifact(dir);
    expect(loaded.manifest.version).toBe('v2');
    expect(loaded.manifest.memoryBank.seed).toBe(2);
    expect(Array.from(loaded.bank)).toEqual(Array.from(second.bank));
    expect(Array.from(loaded.sources)).toEqual(Array.from(second.sources));
  });

  // Regression: the staging folder was named from Date.now() and the pid only, so two saves in one millisecond shared
  // it and mixed their files. Date.now is pinned here so that a name built from it would collide every time.
  it('two models saved at the same time into one parent folder each get their own files', async () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    try {
      const first = makeArtifact(1, 'first');
      const second = makeArtifact(2, 'second');
      await Promise.all([
        saveModelArtifact(join(root, 'first'), first),
        saveModelArtifact(join(root, 'second'), second),
      ]);
      expect((await loadModelArtifact(join(root, 'first'))).manifest.version).toBe('first');
      expect((await loadModelArtifact(join(root, 'second'))).manifest.version).toBe('second');
    } finally {
      now.mockRestore();
    }
  });
});

describe('the cell table saved with the bank', () => {
  it('is the table the search would build, recorded in the manifest and loaded with the bank', async () => {
    const artifact = makeArtifact(4);
    const saved = await saveModelArtifact(dir, artifact);
    const fresh = await buildCellTable(artifact.bank, ROWS, DIMS);
    expect(saved.cells).toEqual(fresh);
    const bytes = await readFile(join(dir, CELL_TABLE_FILE));
    expect(saved.manifest.memoryBank.cells).toEqual({
      file: CELL_TABLE_FILE,
      centres: fresh.centres,
      width: fresh.width,
      sha256: sha256(bytes),
    });
    const loaded = await loadModelArtifact(dir);
    expect(loaded.cells).toEqual(fresh);
    expect(loaded.cells?.rows).toBeInstanceOf(Int32Array);
  });

  it('is built from the bank being saved, never carried over from the artifact or its manifest', async () => {
    const first = await saveModelArtifact(dir, makeArtifact(1));
    const other = makeArtifact(2);
    // The first bank's table and manifest entry, handed in with another bank (as a bank update starts from a loaded model).
    const saved = await saveModelArtifact(dir, {
      ...other,
      cells: first.cells,
      manifest: {
        ...other.manifest,
        memoryBank: { ...other.manifest.memoryBank, cells: first.manifest.memoryBank.cells },
      },
    });
    expect(saved.cells).toEqual(await buildCellTable(other.bank, ROWS, DIMS));
    expect((await loadModelArtifact(dir)).cells).toEqual(saved.cells);
  });

  it('sealManifest drops the entry of the bank it replaces', async () => {
    const saved = await saveModelArtifact(dir, makeArtifact(1));
    expect(saved.manifest.memoryBank.cells).toBeDefined();
    const resealed = sealManifest(saved.manifest, saved.bank, saved.sources);
    expect(resealed.memoryBank.cells).toBeUndefined();
  });

  it('a model saved before the table was kept (no entry, no file) loads without one', async () => {
    await saveModelArtifact(dir, makeArtifact(5));
    await rm(join(dir, CELL_TABLE_FILE));
    await editManifest((m) => delete m.memoryBank.cells);
    const loaded = await loadModelArtifact(dir);
    expect(loaded.cells).toBeUndefined();
    expect(Array.from(loaded.bank)).toEqual(Array.from(makeArtifact(5).bank));
  });

  it('one flipped byte in the table is ARTIFACT_CORRUPT', async () => {
    await saveModelArtifact(dir, makeArtifact());
    const path = join(dir, CELL_TABLE_FILE);
    const bytes = await readFile(path);
    bytes[4] ^= 0x01;
    await writeFile(path, bytes);
    const error = await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_CORRUPT');
    expect(error.details).toMatchObject({ file: CELL_TABLE_FILE });
  });

  it('a truncated or missing table named by the manifest is ARTIFACT_CORRUPT', async () => {
    await saveModelArtifact(dir, makeArtifact());
    await truncate(join(dir, CELL_TABLE_FILE), 4);
    const error = await expectArtifactError(loadModelArtifact(dir, { verifyDigests: false }), 'ARTIFACT_CORRUPT');
    expect(error.message).toContain(CELL_TABLE_FILE);
    await rm(join(dir, CELL_TABLE_FILE));
    await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_CORRUPT');
  });
});

describe('loadModelArtifact failures', () => {
  beforeEach(async () => {
    await saveModelArtifact(dir, makeArtifact());
  });

  it('a missing folder is ARTIFACT_NOT_FOUND', async () => {
    const error = await expectArtifactError(loadModelArtifact(join(root, 'nothing-here')), 'ARTIFACT_NOT_FOUND');
    expect(error.message).toContain(join(root, 'nothing-here'));
  });

  it('a folder without manifest.json is ARTIFACT_NOT_FOUND', async () => {
    await rm(join(dir, MANIFEST_FILE));
    await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_NOT_FOUND');
  });

  it('one flipped byte in the bank is ARTIFACT_CORRUPT (digests are verified by default)', async () => {
    const path = join(dir, 'bank.f32');
    const bytes = await readFile(path);
    bytes[17] ^= 0x01;
    await writeFile(path, bytes);
    const error = await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_CORRUPT');
    expect(error.message).toContain('bank.f32');
    expect(error.details).toMatchObject({ file: 'bank.f32' });
    // The check can be switched off explicitly, and then the damaged bytes load as they are.
    const unchecked = await loadModelArtifact(dir, { verifyDigests: false });
    expect(new Uint8Array(unchecked.bank.buffer, unchecked.bank.byteOffset, unchecked.bank.byteLength)[17]).toBe(
      bytes[17],
    );
  });

  it('one flipped byte in the sources is ARTIFACT_CORRUPT', async () => {
    const path = join(dir, 'bank-sources.u32');
    const bytes = await readFile(path);
    bytes[0] ^= 0x80;
    await writeFile(path, bytes);
    const error = await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_CORRUPT');
    expect(error.details).toMatchObject({ file: 'bank-sources.u32' });
  });

  it('a truncated bank is ARTIFACT_CORRUPT even without digest checks', async () => {
    await truncate(join(dir, 'bank.f32'), ROWS * DIMS * 4 - 4);
    const error = await expectArtifactError(loadModelArtifact(dir, { verifyDigests: false }), 'ARTIFACT_CORRUPT');
    expect(error.message).toContain(`${ROWS * DIMS * 4 - 4} bytes`);
    await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_CORRUPT');
  });

  it('a truncated sources file is ARTIFACT_CORRUPT', async () => {
    await truncate(join(dir, 'bank-sources.u32'), 6);
    await expectArtifactError(loadModelArtifact(dir, { verifyDigests: false }), 'ARTIFACT_CORRUPT');
  });

  it('a missing bank file is ARTIFACT_CORRUPT', async () => {
    await rm(join(dir, 'bank.f32'));
    const error = await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_CORRUPT');
    expect(error.message).toContain('missing bank.f32');
  });

  it('a manifest that is not JSON is ARTIFACT_CORRUPT', async () => {
    await writeFile(join(dir, MANIFEST_FILE), '{"format": "faultline-patchcore", ');
    const error = await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_CORRUPT');
    expect(error.message).toContain('not valid JSON');
  });

  it('formatVersion 999 is ARTIFACT_INCOMPATIBLE', async () => {
    await editManifest((m) => {
      m.formatVersion = 999;
    });
    const error = await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_INCOMPATIBLE');
    expect(error.message).toContain('999');
  });

  it('another format is ARTIFACT_INCOMPATIBLE', async () => {
    await editManifest((m) => {
      m.format = 'other';
    });
    const error = await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_INCOMPATIBLE');
    expect(error.message).toContain('format: other');
  });

  it('a JSON manifest that is not an object (null) is ARTIFACT_INCOMPATIBLE, not a TypeError', async () => {
    await writeFile(join(dir, MANIFEST_FILE), 'null');
    await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_INCOMPATIBLE');
  });

  it.each([
    ['memoryBank.sha256', (m: Record<string, any>) => delete m.memoryBank.sha256],
    ['backbone', (m: Record<string, any>) => delete m.backbone],
    ['thresholds.image', (m: Record<string, any>) => delete m.thresholds.image],
    ['training.imageNames', (m: Record<string, any>) => delete m.training.imageNames],
  ])('a manifest missing %s is ARTIFACT_CORRUPT', async (field, remove) => {
    await editManifest(remove);
    const error = await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_CORRUPT');
    expect(error.message).toContain(field.split('.')[0]);
  });

  it('a manifest whose rows disagree with the bank size is ARTIFACT_CORRUPT', async () => {
    await editManifest((m) => {
      m.memoryBank.rows = ROWS + 1;
    });
    const error = await expectArtifactError(loadModelArtifact(dir), 'ARTIFACT_CORRUPT');
    expect(error.message).toContain(`${ROWS + 1} x ${DIMS}`);
  });
});

describe('artifactManifestSchema', () => {
  const valid = (): ArtifactManifest => makeArtifact().manifest;

  it('accepts the manifest train() would write and fills nothing in', () => {
    const m = valid();
    expect(artifactManifestSchema.parse(m)).toEqual(m);
  });

  it.each<[string, (m: any) => void]>([
    ['an upper-case digest', (m) => (m.backbone.sha256 = 'A'.repeat(64))],
    ['a coreset ratio above 1', (m) => (m.memoryBank.coresetRatio = 1.5)],
    ['a coreset ratio of 0', (m) => (m.memoryBank.coresetRatio = 0)],
    ['another bank file name', (m) => (m.memoryBank.file = 'bank.bin')],
    ['an unknown threshold method', (m) => (m.thresholds.method = 'magic')],
    ['no layers', (m) => (m.backbone.layers = [])],
    ['a createdAt that is not an ISO date-time', (m) => (m.createdAt = 'yesterday')],
    ['an empty version label', (m) => (m.version = '')],
    ['a non-integer grid', (m) => (m.backbone.grid = 28.5)],
    ['an unknown resize mode', (m) => (m.preprocessing.resize = 'stretch')],
  ])('refuses %s', (_, damage) => {
    const m = structuredClone(valid());
    damage(m);
    expect(artifactManifestSchema.safeParse(m).success).toBe(false);
  });
});

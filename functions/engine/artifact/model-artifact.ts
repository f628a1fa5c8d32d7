import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { ModelArtifactError } from '../errors.ts';
import { buildCellTable, type CellTable } from '../search/cell-probe-search.ts';
import { ARTIFACT_FORMAT, ARTIFACT_FORMAT_VERSION } from '../version.ts';
import { type ArtifactManifest, artifactManifestSchema, CELL_TABLE_FILE } from './artifact-manifest.ts';

/**
 * A trained model on disk: a folder with manifest.json, bank.f32 (memory bank rows, float32 little-endian),
 * bank-sources.u32 (per row: training image index * patches per image + patch index, uint32 little-endian) and
 * bank-cells.i32 (the cell-probe search's cell table, built from the bank on save; absent in older models).
 */
export interface ModelArtifact {
  manifest: ArtifactManifest;
  bank: Float32Array;
  sources: Uint32Array;
  /** As loaded (when the manifest names it); a save builds it again from the bank, so it is never stale. */
  cells?: CellTable;
}

export const MANIFEST_FILE = 'manifest.json';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const bytesOf = (a: Float32Array | Uint32Array | Int32Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Typed arrays use the platform's byte order; every platform Node.js ships for is little-endian.
  throw new Error('faultline model artifacts need a little-endian platform');
}

/** Fills in the digests of the binary parts; the caller gives the rest of the manifest. */
export function sealManifest(
  manifest: Omit<ArtifactManifest, 'memoryBank'> & {
    memoryBank: Omit<ArtifactManifest['memoryBank'], 'sha256' | 'sourcesSha256' | 'file' | 'sourcesFile'>;
  },
  bank: Float32Array,
  sources: Uint32Array,
): ArtifactManifest {
  // A cell table recorded for an earlier bank no longer holds: the save builds the new bank's.
  const { cells, ...memoryBank } = manifest.memoryBank as typeof manifest.memoryBank & { cells?: unknown };
  void cells;
  return {
    ...manifest,
    memoryBank: {
      ...memoryBank,
      file: 'bank.f32',
      sourcesFile: 'bank-sources.u32',
      sha256: sha256(bytesOf(bank)),
      sourcesSha256: sha256(bytesOf(sources)),
    },
  };
}

/**
 * Writes the artifact into a sibling temporary folder, then renames it into place: never half a model. The cell
 * table is built here from the bank (whatever the artifact carried), so every saved model has its own, and returns
 * the artifact as saved.
 */
export async function saveModelArtifact(dir: string, artifact: ModelArtifact): Promise<ModelArtifact> {
  const { rows, dims } = artifact.manifest.memoryBank;
  const cells = await buildCellTable(artifact.bank, rows, dims);
  const parsed = artifactManifestSchema.parse({
    ...artifact.manifest,
    memoryBank: {
      ...artifact.manifest.memoryBank,
      cells: { file: CELL_TABLE_FILE, centres: cells.centres, width: cells.width, sha256: sha256(bytesOf(cells.rows)) },
    },
  });
  // A unique staging folder beside the target: concurrent saves never share it, and a crash leaves only a dot-folder.
  await mkdir(dirname(dir), { recursive: true });
  const tmp = await mkdtemp(join(dirname(dir), `.${basename(dir)}-`));
  await writeFile(join(tmp, 'bank.f32'), bytesOf(artifact.bank));
  await writeFile(join(tmp, 'bank-sources.u32'), bytesOf(artifact.sources));
  await writeFile(join(tmp, CELL_TABLE_FILE), bytesOf(cells.rows));
  await writeFile(join(tmp, MANIFEST_FILE), `${JSON.stringify(parsed, null, 2)}\n`);
  // The old model is moved aside, not deleted, until the new one is in place.
  const old = existsSync(dir) ? `${tmp}.old` : undefined;
  if (old) await rename(dir, old);
  await rename(tmp, dir);
  if (old) await rm(old, { recursive: true, force: true });
  return { ...artifact, manifest: parsed, cells };
}

function asAligned<T extends Float32Array | Uint32Array | Int32Array>(
  buffer: Buffer,
  Type: { new (b: ArrayBuffer, o: number, l: number): T; new (l: number): T; BYTES_PER_ELEMENT: number },
): T {
  if (buffer.byteOffset % Type.BYTES_PER_ELEMENT === 0)
    return new Type(buffer.buffer as ArrayBuffer, buffer.byteOffset, buffer.byteLength / Type.BYTES_PER_ELEMENT);
  const copy = new Type(buffer.byteLength / Type.BYTES_PER_ELEMENT); // unaligned (small pooled buffers): copy once
  new Uint8Array(copy.buffer).set(buffer);
  return copy;
}

/** Reads and verifies an artifact: the manifest's schema and format version, the files' sizes and digests. */
export async function loadModelArtifact(
  dir: string,
  options: { verifyDigests?: boolean } = {},
): Promise<ModelArtifact> {
  const manifestPath = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    throw new ModelArtifactError('ARTIFACT_NOT_FOUND', `no model at ${dir} (missing ${MANIFEST_FILE})`, { path: dir });
  }
  let json: { format?: unknown; formatVersion?: unknown };
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelArtifactError(
      'ARTIFACT_CORRUPT',
      `${manifestPath} is not valid JSON`,
      { path: manifestPath },
      { cause },
    );
  }
  if (json?.format !== ARTIFACT_FORMAT) {
    throw new ModelArtifactError(
      'ARTIFACT_INCOMPATIBLE',
      `${manifestPath} is not a ${ARTIFACT_FORMAT} model (format: ${String(json?.format)})`,
      { path: manifestPath },
    );
  }
  if (json.formatVersion !== ARTIFACT_FORMAT_VERSION) {
    throw new ModelArtifactError(
      'ARTIFACT_INCOMPATIBLE',
      `${manifestPath} has format version ${String(json.formatVersion)}; this engine reads version ${ARTIFACT_FORMAT_VERSION}`,
      { path: manifestPath, formatVersion: json.formatVersion },
    );
  }
  const parsed = artifactManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new ModelArtifactError('ARTIFACT_CORRUPT', `${manifestPath} is invalid: ${z.prettifyError(parsed.error)}`, {
      path: manifestPath,
    });
  }
  const manifest = parsed.data;
  const { rows, dims } = manifest.memoryBank;
  const [bankBytes, sourceBytes] = await Promise.all([readPart(dir, 'bank.f32'), readPart(dir, 'bank-sources.u32')]);
  if (bankBytes.byteLength !== rows * dims * 4) {
    throw new ModelArtifactError(
      'ARTIFACT_CORRUPT',
      `${join(dir, 'bank.f32')} has ${bankBytes.byteLength} bytes; the manifest says ${rows} x ${dims} float32 (${rows * dims * 4} bytes)`,
      { path: dir },
    );
  }
  if (sourceBytes.byteLength !== rows * 4) {
    throw new ModelArtifactError(
      'ARTIFACT_CORRUPT',
      `${join(dir, 'bank-sources.u32')} has ${sourceBytes.byteLength} bytes; expected ${rows * 4}`,
      { path: dir },
    );
  }
  const cellsEntry = manifest.memoryBank.cells;
  const cellBytes = cellsEntry ? await readPart(dir, CELL_TABLE_FILE) : undefined;
  if (cellsEntry && cellBytes && cellBytes.byteLength !== cellsEntry.centres * cellsEntry.width * 4) {
    throw new ModelArtifactError(
      'ARTIFACT_CORRUPT',
      `${join(dir, CELL_TABLE_FILE)} has ${cellBytes.byteLength} bytes; the manifest says ${cellsEntry.centres} x ${cellsEntry.width} int32`,
      { path: dir },
    );
  }
  if (options.verifyDigests ?? true) {
    const parts: [string, Buffer, string][] = [
      ['bank.f32', bankBytes, manifest.memoryBank.sha256],
      ['bank-sources.u32', sourceBytes, manifest.memoryBank.sourcesSha256],
    ];
    if (cellsEntry && cellBytes) parts.push([CELL_TABLE_FILE, cellBytes, cellsEntry.sha256]);
    for (const [name, bytes, expected] of parts) {
      const actual = sha256(bytes);
      if (actual !== expected)
        throw new ModelArtifactError(
          'ARTIFACT_CORRUPT',
          `${join(dir, name)} is damaged: sha256 ${actual}, the manifest says ${expected}`,
          { path: dir, file: name },
        );
    }
  }
  return {
    manifest,
    bank: asAligned(bankBytes, Float32Array),
    sources: asAligned(sourceBytes, Uint32Array),
    ...(cellsEntry && cellBytes
      ? { cells: { centres: cellsEntry.centres, width: cellsEntry.width, rows: asAligned(cellBytes, Int32Array) } }
      : {}),
  };
}

async function readPart(dir: string, name: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, name));
  } catch {
    throw new ModelArtifactError('ARTIFACT_CORRUPT', `the model at ${dir} is missing ${name}`, {
      path: dir,
      file: name,
    });
  }
}

import { randomUUID } from 'node:crypto';
import { readZip, type ZipLimits, DEFAULT_ZIP_LIMITS } from '../../engine/archive/safe-zip.ts';
import {
  MAX_MANIFEST_BYTES,
  type ManifestEntry,
  type ManifestLineError,
  parseGroundTruthManifest,
} from '../../engine/dataset/ground-truth-manifest.ts';
import { FaultlineError } from '../../engine/errors.ts';
import { inspectImage } from '../../engine/image/decode-image.ts';
import { binaryMaskFromColourMap } from '../../engine/image/colour-map-mask.ts';
import { storeTrainingImage } from '../datasets/datasets-service.ts';
import { ServiceError } from '../errors.ts';
import { evaluationImportPrefix, importsPrefix, safeFileName } from '../object-keys.ts';
import { requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import {
  type DatasetType,
  type EvaluationItem,
  MAX_EVALUATION_IMAGES,
  readEvaluationSet,
  writeEvaluationSet,
} from './evaluation-set.ts';

/**
 * Most lines one import takes. The import runs inside the request, which API Gateway ends at 29 s: each line is an
 * image (and a mask) read, checked and written, IMPORT_LINES_AT_ONCE at a time. More normal images go into the
 * dataset folder (datasets/{projectId}/, the usual upload routes); a larger evaluation set than MAX_EVALUATION_IMAGES
 * is refused anyway.
 */
export const MAX_IMPORT_LINES = 500;
/** Lines checked (and training images stored) at once: object store round trips overlap. */
const IMPORT_LINES_AT_ONCE = 8;
/**
 * Most an uploaded ZIP may inflate to, all entries together: the images it names are held while they are checked, so
 * this bounds the request's memory (a ZIP upload is at most FAULTLINE_MAX_IMAGE_BYTES; larger datasets come through
 * the bucket, read an object at a time).
 */
export const MAX_IMPORT_ZIP_TOTAL_BYTES = 256 * 1024 * 1024;
/** Most bad lines named in one answer; the count says how many there were in all. */
const MAX_NAMED_LINES = 1000;

/** Where the manifest and the files its lines name come from. */
export type ManifestSource =
  | { kind: 'bucket'; manifestRef: string }
  | { kind: 'zip'; archive: Uint8Array; manifestPath?: string; limits?: ZipLimits };

export interface ImportOutcome {
  datasetType: DatasetType;
  lines: number;
  trainingImages: number;
  evaluation: { normal: number; anomalous: number; withMask: number };
  /** The evaluation set after the import (all datasets). */
  evaluationSetImages: number;
  imageCount: number;
}

const badLines = (errors: ManifestLineError[], what: string) =>
  new ServiceError(
    'VALIDATION_FAILED',
    `${what}: ${errors.length} bad line(s), nothing imported; first: line ${errors[0]!.line}: ${errors[0]!.reason}`,
    { badLines: errors.length, lines: errors.slice(0, MAX_NAMED_LINES) },
  );

/** Runs `fn` on every item, `n` at a time; the first failure stops the taking of more and is thrown once all settle. */
async function eachAtOnce<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (!failed && next < items.length) {
        try {
          await fn(items[next++]!);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    }),
  );
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}

/** A reference (s3://bucket/key, or a path relative to the manifest) as a relative path, or why it cannot be one. */
function relativePathOf(ref: string, base: string): string | { reason: string } {
  let path: string;
  if (ref.startsWith('s3://')) path = ref.slice('s3://'.length);
  else if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return { reason: `${ref}: only s3:// references or relative paths` };
  else path = base + ref;
  const parts = path.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..') || path.includes('\0') || path.includes('\\'))
    return { reason: `${ref}: not a plain path (empty, "." or ".." parts)` };
  return path;
}

/** Finds the bytes a reference names: undefined when there is no such object or entry. */
type Fetch = (ref: string) => Promise<Uint8Array | undefined | { reason: string }>;

/**
 * From the bucket: the manifest at s3://{bucket}/{key}. A reference into Faultline's own bucket must lie under the
 * project's imports/ folder; one into another bucket (a Lookout for Vision project's) is looked for at
 * imports/{projectId}/{bucket}/{key}, where `aws s3 sync s3://{bucket} s3://FAULTLINE/imports/{projectId}/{bucket}`
 * puts it, so the manifest is imported unchanged.
 */
function bucketSource(s: Services, projectId: string, manifestRef: string) {
  const own = `${s.config.FAULTLINE_BUCKET}/${importsPrefix(projectId)}`;
  const keyOf = (ref: string, base: string): string | { reason: string } => {
    const path = relativePathOf(ref, base);
    if (typeof path !== 'string') return path;
    if (path.startsWith(own)) return path.slice(s.config.FAULTLINE_BUCKET.length + 1);
    if (path.startsWith(`${s.config.FAULTLINE_BUCKET}/`))
      return { reason: `${ref}: outside this project's imports folder (${importsPrefix(projectId)})` };
    return importsPrefix(projectId) + path;
  };
  const manifestKey = keyOf(manifestRef, '');
  if (typeof manifestKey !== 'string') throw new ServiceError('VALIDATION_FAILED', manifestKey.reason);
  const base = manifestKey.slice(importsPrefix(projectId).length).replace(/[^/]*$/, '');
  const fetch: Fetch = async (ref) => {
    const key = keyOf(ref, base);
    return typeof key === 'string' ? s.objects.get(key) : key;
  };
  return { manifestKey, fetch };
}

/** From a ZIP: the manifest (the one *.manifest or *.jsonl entry, or the one named) and the entries its lines name. */
async function zipSource(s: Services, source: Extract<ManifestSource, { kind: 'zip' }>) {
  const limits = source.limits ?? {
    ...DEFAULT_ZIP_LIMITS,
    maxEntryBytes: Math.max(s.config.FAULTLINE_MAX_IMAGE_BYTES, MAX_MANIFEST_BYTES),
    maxTotalBytes: MAX_IMPORT_ZIP_TOTAL_BYTES,
  };
  const buffer = Buffer.from(source.archive.buffer, source.archive.byteOffset, source.archive.byteLength);
  const candidates: string[] = [];
  await readZip(buffer, limits, async (entry) => {
    if (source.manifestPath ? entry.path === source.manifestPath : /\.(manifest|jsonl)$/i.test(entry.path))
      candidates.push(entry.path);
  });
  if (candidates.length !== 1)
    throw new ServiceError(
      'VALIDATION_FAILED',
      source.manifestPath
        ? `the archive has no entry ${source.manifestPath}`
        : candidates.length === 0
          ? 'the archive has no manifest (an entry ending in .manifest or .jsonl)'
          : `the archive has several manifests (${candidates.slice(0, 5).join(', ')}): name one in the field "manifest"`,
    );
  const manifestPath = candidates[0]!;
  let manifest = '';
  await readZip(buffer, limits, async (entry, read) => {
    if (entry.path === manifestPath) manifest = (await read(MAX_MANIFEST_BYTES)).toString('utf8');
  });
  const base = manifestPath.replace(/[^/]*$/, '');
  // The entries the manifest names, read in one pass: s3://bucket/key is the entry key or bucket/key.
  const wanted = (parsed: ManifestEntry[]) => {
    const paths = new Set<string>();
    for (const e of parsed)
      for (const ref of [e.sourceRef, e.mask?.ref]) {
        if (!ref) continue;
        const path = relativePathOf(ref, base);
        if (typeof path !== 'string') continue;
        paths.add(path);
        if (ref.startsWith('s3://')) paths.add(path.split('/').slice(1).join('/'));
      }
    return paths;
  };
  const load = async (entries: ManifestEntry[]): Promise<Fetch> => {
    const paths = wanted(entries);
    const files = new Map<string, Buffer>();
    await readZip(buffer, limits, async (entry, read) => {
      if (paths.has(entry.path)) files.set(entry.path, await read(limits.maxEntryBytes));
    });
    return async (ref) => {
      const path = relativePathOf(ref, base);
      if (typeof path !== 'string') return path;
      return files.get(path) ?? (ref.startsWith('s3://') ? files.get(path.split('/').slice(1).join('/')) : undefined);
    };
  };
  return { manifest, manifestPath, load };
}

/**
 * Imports a Lookout for Vision dataset manifest into a project: in a training dataset (datasetType "train") normal
 * images become training images and anomalies the labelled evaluation set; in a test dataset every image joins the
 * evaluation set. Each line is checked first (JSON, labels, references, images, masks against their colour map):
 * any bad line refuses the whole import with every bad line named, and nothing is stored. An import replaces the
 * evaluation images earlier imports of the same dataset type gave; training images are added.
 */
export async function importLookoutManifest(
  s: Services,
  projectId: string,
  source: ManifestSource,
  datasetType: DatasetType,
): Promise<ImportOutcome> {
  await requireProject(s, projectId);
  let text: string;
  let fetchFor: (entries: ManifestEntry[]) => Promise<Fetch>;
  let what: string;
  if (source.kind === 'bucket') {
    const { manifestKey, fetch } = bucketSource(s, projectId, source.manifestRef);
    const head = await s.objects.head(manifestKey);
    if (!head) throw new ServiceError('NOT_FOUND', `no manifest at ${source.manifestRef} (key ${manifestKey})`);
    if (head.size > MAX_MANIFEST_BYTES)
      throw new ServiceError('PAYLOAD_TOO_LARGE', `the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
    text = Buffer.from((await s.objects.get(manifestKey)) ?? []).toString('utf8');
    fetchFor = async () => fetch;
    what = `manifest ${source.manifestRef}`;
  } else {
    const zip = await zipSource(s, source);
    text = zip.manifest;
    fetchFor = zip.load;
    what = `manifest ${zip.manifestPath}`;
  }
  const parsed = parseGroundTruthManifest(text);
  if (!parsed.ok) throw badLines(parsed.errors, what);
  const entries = parsed.entries;
  if (entries.length > MAX_IMPORT_LINES)
    throw new ServiceError(
      'TOO_MANY_FILES',
      `${what} has ${entries.length} lines, more than ${MAX_IMPORT_LINES} one import takes (it runs within the request); put further normal images in the dataset (POST /api/v1/projects/${projectId}/images, or the bucket's datasets/${projectId}/) and import the labelled ones`,
      { lines: entries.length, limit: MAX_IMPORT_LINES },
    );
  const toTraining = (e: ManifestEntry) => datasetType === 'train' && !e.anomalous;
  const fetch = await fetchFor(entries);

  const set = await readEvaluationSet(s, projectId);
  const kept = set.items.filter((i) => i.dataset !== datasetType);
  const evaluationCount = kept.length + entries.filter((e) => !toTraining(e)).length;
  if (evaluationCount > MAX_EVALUATION_IMAGES)
    throw new ServiceError(
      'TOO_MANY_FILES',
      `the evaluation set would hold ${evaluationCount} images, more than ${MAX_EVALUATION_IMAGES}`,
      { images: evaluationCount, limit: MAX_EVALUATION_IMAGES },
    );

  // Checked and stored under a new import's prefix, which nothing points to until every line has passed.
  const importId = randomUUID();
  const prefix = evaluationImportPrefix(projectId, importId);
  const errors: ManifestLineError[] = [];
  const items: EvaluationItem[] = [];
  const training: { entry: ManifestEntry; name: string }[] = [];
  const read = async (entry: ManifestEntry, ref: string): Promise<Uint8Array | undefined> => {
    const got = await fetch(ref);
    if (got === undefined) errors.push({ line: entry.line, reason: `${ref}: no such object` });
    else if (!(got instanceof Uint8Array)) errors.push({ line: entry.line, reason: got.reason });
    else return got;
    return undefined;
  };
  try {
    await eachAtOnce(entries, IMPORT_LINES_AT_ONCE, async (entry) => {
      const bytes = await read(entry, entry.sourceRef);
      if (!bytes) return;
      const name = safeFileName(entry.sourceRef);
      try {
        const info = await inspectImage(bytes);
        if (toTraining(entry)) {
          training.push({ entry, name });
          return;
        }
        let maskKey: string | undefined;
        let defect = entry.anomalous ? 'anomaly' : 'good';
        if (entry.mask) {
          const maskBytes = await read(entry, entry.mask.ref);
          if (!maskBytes) return;
          const mask = await binaryMaskFromColourMap(maskBytes, entry.mask.anomalyColours, info).catch(
            (error: unknown) => {
              if (error instanceof FaultlineError)
                errors.push({ line: entry.line, reason: `${entry.mask!.ref}: ${error.message}` });
              else throw error;
              return undefined;
            },
          );
          if (!mask) return;
          defect = Object.keys(mask.pixelsByClass)
            .filter((c) => mask.pixelsByClass[c]! > 0)
            .sort()
            .join('+');
          maskKey = `${prefix}masks/${entry.line}.png`;
          if (errors.length === 0) await s.objects.put(maskKey, mask.png, 'image/png');
        }
        const imageKey = `${prefix}images/${entry.line}-${name}`;
        if (errors.length === 0) await s.objects.put(imageKey, bytes, `image/${info.format}`);
        items.push({
          line: entry.line,
          sourceRef: entry.sourceRef,
          dataset: datasetType,
          importId,
          imageKey,
          anomalous: entry.anomalous,
          defect,
          ...(maskKey ? { maskKey } : {}),
        });
      } catch (error) {
        if (!(error instanceof FaultlineError)) throw error;
        errors.push({ line: entry.line, reason: `${entry.sourceRef}: ${error.message}` });
      }
    });
    // In line order, as they were checked one by one before.
    errors.sort((a, b) => a.line - b.line);
    items.sort((a, b) => a.line - b.line);
    training.sort((a, b) => a.entry.line - b.entry.line);
    if (errors.length) throw badLines(errors, what);
  } catch (error) {
    await s.objects.deletePrefix(prefix);
    throw error;
  }

  // Every line passed: the normal images become training images, then the evaluation set points to the new import.
  await eachAtOnce(training, IMPORT_LINES_AT_ONCE, async ({ entry, name }) => {
    const bytes = (await fetch(entry.sourceRef)) as Uint8Array;
    await storeTrainingImage(s, projectId, { name, bytes });
  });
  await writeEvaluationSet(s, projectId, { updatedAt: new Date().toISOString(), items: [...kept, ...items] });
  const replaced = new Set(set.items.filter((i) => i.dataset === datasetType).map((i) => i.importId));
  for (const id of replaced) await s.objects.deletePrefix(evaluationImportPrefix(projectId, id));
  const project = await requireProject(s, projectId);
  return {
    datasetType,
    lines: entries.length,
    trainingImages: training.length,
    evaluation: {
      normal: items.filter((i) => !i.anomalous).length,
      anomalous: items.filter((i) => i.anomalous).length,
      withMask: items.filter((i) => i.maskKey).length,
    },
    evaluationSetImages: kept.length + items.length,
    imageCount: project.imageCount,
  };
}

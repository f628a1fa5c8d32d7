import { type ModelArtifact, sealManifest } from '../artifact/model-artifact.ts';
import { prepareBackbone } from '../backbone/obtain-backbone.ts';
import type { ImageSource } from '../dataset/image-source.ts';
import { DatasetError, ModelArtifactError } from '../errors.ts';
import { FeatureExtractor, inspectionViewOf } from '../features/feature-extractor.ts';
import { InputPreparer } from '../features/input-preparer.ts';
import { greedyCoreset } from '../memory-bank/greedy-coreset.ts';
import { sparseRandomProjection } from '../memory-bank/random-projection.ts';
import type { SessionOptions } from '../onnx/create-session.ts';
import { MinimumDistance } from '../search/nearest-neighbour-search.ts';
import { extractFeatureSet, type SkippedImage } from './feature-pass.ts';
import { TRAINING_DEFAULTS } from './train.ts';

export type ExtensionStage = 'features' | 'coreset';

export interface ExtendBankOptions {
  /** The new model's version label. */
  version?: string;
  batchSize?: number;
  session?: SessionOptions;
  onProgress?: (progress: { stage: ExtensionStage; done: number; total: number }) => void;
}

export interface ExtensionReport {
  addedImages: number;
  addedRows: number;
  bankRows: number;
  skipped: SkippedImage[];
  timingsMs: { features: number; coreset: number; total: number };
}

const DISTANCE_MATRIX_FLOATS = 16 * 2 ** 20;

/** Distances of each query row to its nearest bank row, in chunks that keep onnxruntime's matrices small. */
async function distancesToBank(
  queries: Float32Array,
  bank: Float32Array,
  dims: number,
  session?: SessionOptions,
): Promise<Float64Array> {
  const rows = queries.length / dims;
  const bankRows = bank.length / dims;
  const out = new Float64Array(rows);
  const minimum = await MinimumDistance.create(dims, session);
  try {
    // The distance matrix of a chunk is chunk x bank rows: kept near 16M floats (64 MB) however large the bank.
    const chunk = Math.max(1, Math.min(4096, Math.floor(DISTANCE_MATRIX_FLOATS / bankRows)));
    for (let start = 0; start < rows; start += chunk) {
      const end = Math.min(rows, start + chunk);
      const d = await minimum.run(queries.subarray(start * dims, end * dims), bank);
      out.set(d, start);
    }
  } finally {
    await minimum.release();
  }
  return out;
}

/**
 * A new model whose memory bank is the old one plus a coreset of the patches of new normal images (reviewed false
 * alarms): the old rows stay as they are, and the greedy k-center selection continues from them over the new patches
 * (on the model's own random projection), so the patches least like anything in the bank come first and patches the
 * bank already covers are left out. As many new rows are kept as the model's coreset ratio of the new patches. The
 * thresholds are kept: the bank only grows, so the calibration normals' scores can only fall and the threshold stays
 * where their old scores put it (recalibrating with confirmed defects is calibration/thresholds.ts's
 * recalibrateWithDefects). Seconds, not a retraining: only the new images pass through the backbone.
 */
export async function extendMemoryBank(
  base: ModelArtifact,
  images: ImageSource[],
  options: ExtendBankOptions = {},
): Promise<{ artifact: ModelArtifact; report: ExtensionReport }> {
  const started = performance.now();
  if (images.length === 0) throw new DatasetError('DATASET_INVALID', 'no images were given to add to the bank', {});
  const m = base.manifest;
  const backbone = await prepareBackbone({
    backbone: m.backbone.id,
    layers: m.backbone.layers,
    aggregation: m.backbone.aggregation,
  });
  if (backbone.manifest.sha256 !== m.backbone.sha256)
    throw new ModelArtifactError(
      'ARTIFACT_INCOMPATIBLE',
      `the model was trained with backbone ${m.backbone.id} ${m.backbone.sha256.slice(0, 12)}; the installed one is ${backbone.manifest.sha256.slice(0, 12)}`,
      { backbone: m.backbone.id },
    );
  const extractor = await FeatureExtractor.create(backbone, options.session, inspectionViewOf(m));
  const preparer = new InputPreparer(m.preprocessing, options.batchSize ?? TRAINING_DEFAULTS.batchSize);
  const progress = (stage: ExtensionStage) => (done: number, total: number) =>
    options.onProgress?.({ stage, done, total });
  let t = performance.now();
  const set = await (async () => {
    try {
      return await extractFeatureSet(images, extractor, preparer, progress('features'));
    } finally {
      await extractor.release();
    }
  })();
  if (set.names.length === 0)
    throw new DatasetError('DATASET_INVALID', `none of the ${images.length} images could be read`, {
      skipped: set.skipped,
    });
  const featuresMs = performance.now() - t;

  t = performance.now();
  const { dims, rows: oldRows, projectionDims, seed, coresetRatio } = m.memoryBank;
  const perImage = m.backbone.grid * m.backbone.grid;
  const newRows = set.names.length * perImage;
  // The model's own projection (same seed and sizes as in training), applied to the old bank and the new patches.
  const newProjected = sparseRandomProjection(set.features, newRows, dims, projectionDims, seed);
  const bankProjected = sparseRandomProjection(base.bank, oldRows, dims, projectionDims, seed);
  const initial = await distancesToBank(newProjected.data, bankProjected.data, newProjected.dims, options.session);
  const size = Math.max(1, Math.min(newRows, Math.round(newRows * coresetRatio)));
  const selected = await greedyCoreset(newProjected.data, newRows, newProjected.dims, {
    size,
    seed,
    initialDistances: initial,
    onProgress: progress('coreset'),
  });
  const added = selected.length;
  const bank = new Float32Array((oldRows + added) * dims);
  bank.set(base.bank);
  const sources = new Uint32Array(oldRows + added);
  sources.set(base.sources);
  const firstImage = m.training.imageNames.length;
  selected.forEach((row, i) => {
    bank.set(set.features.subarray(row * dims, (row + 1) * dims), (oldRows + i) * dims);
    sources[oldRows + i] = firstImage * perImage + row; // image index * patches per image + patch index
  });
  const coresetMs = performance.now() - t;

  const now = new Date().toISOString();
  const { file, sha256, sourcesFile, sourcesSha256, ...memoryBank } = m.memoryBank;
  (void file, sha256, sourcesFile, sourcesSha256);
  const manifest = sealManifest(
    {
      ...m,
      createdAt: now,
      ...(options.version ? { version: options.version } : {}),
      memoryBank: { ...memoryBank, rows: oldRows + added },
      training: {
        ...m.training,
        imageNames: [...m.training.imageNames, ...set.names],
        imageSizes: [...m.training.imageSizes, ...set.sizes],
        extensions: [...(m.training.extensions ?? []), { images: set.names.length, rows: added, date: now }],
      },
    },
    bank,
    sources,
  );
  const totalMs = performance.now() - started;
  return {
    artifact: { manifest, bank, sources },
    report: {
      addedImages: set.names.length,
      addedRows: added,
      bankRows: oldRows + added,
      skipped: set.skipped,
      timingsMs: { features: Math.round(featuresMs), coreset: Math.round(coresetMs), total: Math.round(totalMs) },
    },
  };
}

import type { ArtifactManifest, Preprocessing } from '../artifact/artifact-manifest.ts';
import { type ModelArtifact, sealManifest } from '../artifact/model-artifact.ts';
import { prepareBackbone } from '../backbone/obtain-backbone.ts';
import { type CalibrationScores, calibrateThresholds } from '../calibration/thresholds.ts';
import type { ImageSource } from '../dataset/image-source.ts';
import {
  type DetectionSettings,
  defaultDetectionSettings,
  detectionSettingsSchema,
} from '../detection/detection-settings.ts';
import { DatasetError, InvalidOptionError } from '../errors.ts';
import { FeatureExtractor } from '../features/feature-extractor.ts';
import { InputPreparer } from '../features/input-preparer.ts';
import type { ResizeMode } from '../image/decode-image.ts';
import { decodeMask } from '../image/decode-mask.ts';
import { seededRandom } from '../math/random.ts';
import { greedyCoreset } from '../memory-bank/greedy-coreset.ts';
import { sparseRandomProjection } from '../memory-bank/random-projection.ts';
import type { SessionOptions } from '../onnx/create-session.ts';
import { inputAnomalyMap, toImageGeometry } from '../scoring/anomaly-map.ts';
import { PatchScorer } from '../scoring/patch-scorer.ts';
import { ARTIFACT_FORMAT, ARTIFACT_FORMAT_VERSION, ENGINE_VERSION } from '../version.ts';
import { extractFeatureSet, type FeatureSet, type SkippedImage } from './feature-pass.ts';

export type TrainingStage = 'features' | 'coreset' | 'calibration';

export interface TrainingProgress {
  stage: TrainingStage;
  done: number;
  total: number;
}

/** A labelled defective image for calibration, with its ground-truth mask when known. */
export interface LabelledCalibrationImage {
  image: ImageSource;
  mask?: ImageSource;
}

export interface TrainOptions {
  backbone?: string;
  layers?: string[];
  resize?: ResizeMode;
  /** Side of the square resized to before the centre crop (resize 'crop' only). */
  resizeTo?: number;
  /** Share of all training patches kept in the memory bank. */
  coresetRatio?: number;
  /** Dimensions of the random projection the coreset is chosen on. */
  projectionDims?: number;
  seed?: number;
  /** Bank rows compared in anomalib's image-score re-weighting. */
  neighbours?: number;
  blurSigma?: number;
  /** Normal images kept apart for calibration. Without, `holdOut` of the training images are set aside. */
  calibrationImages?: ImageSource[];
  /** Defective images (with masks when known) for F1-optimal thresholds. */
  anomalousImages?: LabelledCalibrationImage[];
  holdOut?: number;
  /** Threshold at mean + sigmas x standard deviation of the calibration images' scores (the default rule). */
  sigmas?: number;
  /** Threshold at this quantile of the calibration images' scores instead (1 = the largest). */
  quantile?: number;
  /** Relative margin added above the threshold. */
  margin?: number;
  settings?: Partial<DetectionSettings>;
  batchSize?: number;
  session?: SessionOptions;
  /** A version label stored in the model (the service's "v3"). */
  version?: string;
  onProgress?: (progress: TrainingProgress) => void;
}

export interface TrainingReport {
  trainImages: number;
  calibrationImages: number;
  bankRows: number;
  skipped: SkippedImage[];
  timingsMs: { features: number; coreset: number; calibration: number; total: number };
}

export const TRAINING_DEFAULTS = {
  // Measured best on cookie, tire and magnetic_tile (README): a slight crop keeps almost all of the image in view.
  resize: 'crop' as ResizeMode,
  resizeTo: 240,
  coresetRatio: 0.1,
  projectionDims: 128,
  seed: 0,
  neighbours: 9,
  blurSigma: 4,
  holdOut: 0.15,
  sigmas: 2,
  margin: 0,
  batchSize: 8,
};

/** Fewest normal images to train on when calibration images must come out of them. */
export const MIN_IMAGES_WITH_HOLD_OUT = 5;

function checkOptions(o: typeof TRAINING_DEFAULTS & { quantile?: number }): void {
  const fail = (message: string, details: Record<string, unknown>) => {
    throw new InvalidOptionError(message, details);
  };
  if (!(o.coresetRatio > 0 && o.coresetRatio <= 1))
    fail(`coresetRatio must be in (0, 1], got ${o.coresetRatio}`, { coresetRatio: o.coresetRatio });
  if (!(o.holdOut > 0 && o.holdOut < 0.9))
    fail(`holdOut must be in (0, 0.9), got ${o.holdOut}`, { holdOut: o.holdOut });
  if (!(o.sigmas >= 0 && o.sigmas <= 10)) fail(`sigmas must be in [0, 10], got ${o.sigmas}`, { sigmas: o.sigmas });
  if (o.quantile !== undefined && !(o.quantile > 0 && o.quantile <= 1))
    fail(`quantile must be in (0, 1], got ${o.quantile}`, { quantile: o.quantile });
  if (!(o.margin >= 0 && o.margin < 10)) fail(`margin must be in [0, 10), got ${o.margin}`, { margin: o.margin });
  if (!Number.isInteger(o.projectionDims) || o.projectionDims < 8)
    fail(`projectionDims must be an integer >= 8, got ${o.projectionDims}`, { projectionDims: o.projectionDims });
  if (!Number.isInteger(o.neighbours) || o.neighbours < 1)
    fail(`neighbours must be a positive integer, got ${o.neighbours}`, { neighbours: o.neighbours });
  if (!(o.blurSigma >= 0)) fail(`blurSigma must be >= 0, got ${o.blurSigma}`, { blurSigma: o.blurSigma });
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > 64)
    fail(`batchSize must be an integer in 1..64, got ${o.batchSize}`, { batchSize: o.batchSize });
}

/** Splits off calibration images: a seeded random share, so that runs repeat and no folder order bias creeps in. */
function holdOutSplit(
  images: ImageSource[],
  share: number,
  seed: number,
): { train: ImageSource[]; heldOut: ImageSource[] } {
  const random = seededRandom(seed + 7919);
  const order = images.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const count = Math.max(1, Math.round(images.length * share));
  const held = new Set(order.slice(0, count));
  return { train: images.filter((_, i) => !held.has(i)), heldOut: images.filter((_, i) => held.has(i)) };
}

/**
 * Trains a PatchCore model on normal images: features of every patch, a greedy coreset of them as the memory bank,
 * thresholds from calibration images scored against that bank.
 */
export async function train(
  images: ImageSource[],
  options: TrainOptions = {},
): Promise<{ artifact: ModelArtifact; report: TrainingReport }> {
  const started = performance.now();
  const o = {
    ...TRAINING_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as typeof TRAINING_DEFAULTS & TrainOptions;
  checkOptions(o);
  const settings = detectionSettingsSchema.parse({ ...defaultDetectionSettings(), ...o.settings });
  const progress = (stage: TrainingStage) => (done: number, total: number) => o.onProgress?.({ stage, done, total });

  let trainSources = images;
  let calibrationSources = o.calibrationImages ?? [];
  let heldOutNames: string[] = [];
  if (calibrationSources.length === 0) {
    if (images.length < MIN_IMAGES_WITH_HOLD_OUT) {
      throw new DatasetError(
        'DATASET_INVALID',
        `training needs at least ${MIN_IMAGES_WITH_HOLD_OUT} normal images (got ${images.length}), or at least 1 plus calibration images`,
        { images: images.length },
      );
    }
    const split = holdOutSplit(images, o.holdOut, o.seed);
    trainSources = split.train;
    calibrationSources = split.heldOut;
    heldOutNames = split.heldOut.map((s) => s.name);
  } else if (images.length === 0) {
    throw new DatasetError('DATASET_INVALID', 'no training images were given', {});
  }

  const backbone = await prepareBackbone({ backbone: o.backbone, layers: o.layers });
  const preprocessing: Preprocessing = {
    size: backbone.manifest.input.size,
    resize: o.resize,
    resizeTo: o.resize === 'crop' ? o.resizeTo : backbone.manifest.input.size,
    mean: backbone.manifest.input.mean,
    std: backbone.manifest.input.std,
  };
  if (preprocessing.resizeTo < preprocessing.size)
    throw new InvalidOptionError(
      `resizeTo (${preprocessing.resizeTo}) must be at least the input size ${preprocessing.size}`,
      {},
    );
  const extractor = await FeatureExtractor.create(backbone, o.session);
  const preparer = new InputPreparer(preprocessing, o.batchSize);
  let scorer: PatchScorer | undefined;
  try {
    // 1. Features of every training patch.
    let t = performance.now();
    const trainSet = await extractFeatureSet(trainSources, extractor, preparer, progress('features'));
    if (trainSet.names.length === 0) {
      throw new DatasetError('DATASET_INVALID', `none of the ${trainSources.length} training images could be read`, {
        skipped: trainSet.skipped,
      });
    }
    const featuresMs = performance.now() - t;

    // 2. Memory bank: greedy coreset chosen on a random projection, rows kept at full dimension.
    t = performance.now();
    const dims = extractor.channels;
    const rows = trainSet.names.length * extractor.patchesPerImage;
    const size = Math.max(1, Math.min(rows, Math.round(rows * o.coresetRatio)));
    const projected = sparseRandomProjection(trainSet.features, rows, dims, o.projectionDims, o.seed);
    const selected = await greedyCoreset(projected.data, rows, projected.dims, {
      size,
      seed: o.seed,
      onProgress: progress('coreset'),
    });
    const bank = new Float32Array(size * dims);
    const sources = new Uint32Array(size);
    selected.forEach((row, i) => {
      bank.set(trainSet.features.subarray(row * dims, (row + 1) * dims), i * dims);
      sources[i] = row; // row = image index * patches per image + patch index
    });
    const coresetMs = performance.now() - t;

    // 3. Calibration: score held-out normal (and labelled defective) images against the bank.
    t = performance.now();
    scorer = await PatchScorer.create(
      { data: bank, rows: size, dims },
      extractor.patchesPerImage,
      o.neighbours,
      o.session,
    );
    const calibration = await scoreCalibration(
      calibrationSources,
      o.anomalousImages ?? [],
      { extractor, preparer, scorer, preprocessing, grid: backbone.grid, sigma: o.blurSigma },
      progress('calibration'),
    );
    if (calibration.normalImageScores.length === 0) {
      throw new DatasetError('DATASET_INVALID', 'no calibration image could be read', { skipped: calibration.skipped });
    }
    const thresholds = calibrateThresholds(calibration, {
      rule: o.quantile !== undefined ? { quantile: o.quantile } : { sigmas: o.sigmas },
      margin: o.margin,
    });
    const calibrationMs = performance.now() - t;

    const now = new Date().toISOString();
    const totalMs = performance.now() - started;
    const manifest: ArtifactManifest = sealManifest(
      {
        format: ARTIFACT_FORMAT,
        formatVersion: ARTIFACT_FORMAT_VERSION,
        engineVersion: ENGINE_VERSION,
        createdAt: now,
        ...(o.version ? { version: o.version } : {}),
        backbone: {
          id: backbone.manifest.id,
          sha256: backbone.manifest.sha256,
          layers: backbone.layers.map((l) => l.tensor),
          grid: backbone.grid,
          channels: backbone.channels,
        },
        preprocessing,
        memoryBank: { rows: size, dims, coresetRatio: o.coresetRatio, projectionDims: projected.dims, seed: o.seed },
        scoring: { neighbours: o.neighbours, blurSigma: o.blurSigma },
        thresholds,
        training: {
          images: trainSet.names.length,
          imageNames: trainSet.names,
          imageSizes: trainSet.sizes,
          heldOut: heldOutNames,
          durationMs: Math.round(totalMs),
          date: now,
        },
        settings,
      },
      bank,
      sources,
    );
    const report: TrainingReport = {
      trainImages: trainSet.names.length,
      calibrationImages: thresholds.calibrationImages,
      bankRows: size,
      skipped: [...trainSet.skipped, ...calibration.skipped],
      timingsMs: {
        features: Math.round(featuresMs),
        coreset: Math.round(coresetMs),
        calibration: Math.round(calibrationMs),
        total: Math.round(totalMs),
      },
    };
    return { artifact: { manifest, bank, sources }, report };
  } finally {
    await extractor.release();
    await scorer?.release();
  }
}

interface CalibrationContext {
  extractor: FeatureExtractor;
  preparer: InputPreparer;
  scorer: PatchScorer;
  preprocessing: Preprocessing;
  grid: number;
  sigma: number;
}

/** Pixels sampled per calibration image for the pixel F1 (every n-th), to keep the sort small. */
const PIXEL_SAMPLE_STEP = 3;

async function scoreCalibration(
  normals: ImageSource[],
  anomalies: LabelledCalibrationImage[],
  ctx: CalibrationContext,
  onProgress: (done: number, total: number) => void,
): Promise<CalibrationScores & { skipped: SkippedImage[] }> {
  const total = normals.length + anomalies.length;
  const score = async (set: FeatureSet) => {
    const scores = await ctx.scorer.score(set.features, set.names.length);
    return scores.map((s) => ({
      score: s.image.score,
      map: inputAnomalyMap(s.distances, ctx.grid, ctx.preprocessing.size, ctx.sigma),
    }));
  };
  const normalSet = await extractFeatureSet(normals, ctx.extractor, ctx.preparer, (d) => onProgress(d, total));
  const normalScores = await score(normalSet);
  const anomalySet = await extractFeatureSet(
    anomalies.map((a) => a.image),
    ctx.extractor,
    ctx.preparer,
    (d) => onProgress(normals.length + d, total),
  );
  const anomalyScores = await score(anomalySet);

  const pixelScores: number[] = [];
  const pixelLabels: number[] = [];
  const sample = (map: Float32Array, mask: Uint8Array | undefined) => {
    for (let i = 0; i < map.length; i += PIXEL_SAMPLE_STEP) {
      pixelScores.push(map[i]);
      pixelLabels.push(mask ? mask[i] : 0);
    }
  };
  const maskByName = new Map(anomalies.filter((a) => a.mask).map((a) => [a.image.name, a.mask!]));
  if (maskByName.size > 0) {
    normalScores.forEach((s, i) => sample(toImageGeometry(s.map, ctx.preprocessing, ...normalSet.sizes[i]), undefined));
    for (let i = 0; i < anomalySet.names.length; i++) {
      const maskSource = maskByName.get(anomalySet.names[i]);
      if (!maskSource) continue;
      const [w, h] = anomalySet.sizes[i];
      sample(
        toImageGeometry(anomalyScores[i].map, ctx.preprocessing, w, h),
        await decodeMask(await maskSource.read(), w, h),
      );
    }
  }
  return {
    normalImageScores: normalScores.map((s) => s.score),
    normalPixelMaxima: normalScores.map((s) => s.map.reduce((m, v) => (v > m ? v : m), -Infinity)),
    anomalousImageScores: anomalyScores.map((s) => s.score),
    pixelSamples:
      pixelScores.length > 0
        ? { scores: Float32Array.from(pixelScores), labels: Uint8Array.from(pixelLabels) }
        : undefined,
    skipped: [...normalSet.skipped, ...anomalySet.skipped],
  };
}

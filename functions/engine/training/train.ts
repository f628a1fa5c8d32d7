import type { ArtifactManifest, Preprocessing } from '../artifact/artifact-manifest.ts';
import { type ModelArtifact, sealManifest } from '../artifact/model-artifact.ts';
import { prepareBackbone } from '../backbone/obtain-backbone.ts';
import { AGGREGATIONS, type Aggregation, DEFAULT_AGGREGATION } from '../backbone/feature-model.ts';
import {
  chooseNormalisation,
  needsImageStatistics,
  INPUT_NORMALISATIONS,
  type InputNormalisation,
  measureInputStatistics,
} from '../features/input-statistics.ts';
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
import { greedyCoreset } from '../memory-bank/greedy-coreset.ts';
import { sparseRandomProjection } from '../memory-bank/random-projection.ts';
import type { SessionOptions } from '../onnx/create-session.ts';
import { inputAnomalyMap, toImageGeometry } from '../scoring/anomaly-map.ts';
import { PatchScorer } from '../scoring/patch-scorer.ts';
import { ARTIFACT_FORMAT, ARTIFACT_FORMAT_VERSION, ENGINE_VERSION } from '../version.ts';
import { type Augmentation, AUGMENTATIONS, augmentedViews, viewPatchSources } from './augment.ts';
import { crossImageScores, type GroupedFeatures } from './cross-calibration.ts';
import { extractFeatureSet, extractViewFeatures, type FeatureSet, type SkippedImage } from './feature-pass.ts';
import { type CalibrationSource, judgeModelQuality, type ModelQuality } from './model-quality.ts';

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
  /** Side of the neighbourhood patch features are averaged over (1, 3, 5 or 7; feature-model.ts). */
  aggregation?: number;
  /**
   * Input pixel statistics: the backbone's (ImageNet), the normal training images' own per-channel mean and
   * standard deviation, or auto: the images' own where their contrast is low (features/input-statistics.ts).
   */
  normalise?: InputNormalisation;
  resize?: ResizeMode;
  /** Side of the square resized to before the centre crop (resize 'crop' only); default scales with the resolution. */
  resizeTo?: number;
  /**
   * Side of the inspected image (features/tiling.ts): the backbone's input size (224) as before, or more, cut into
   * overlapping tiles of the backbone's size.
   */
  resolution?: number;
  /** With a resolution above the backbone's: a coarse whole-image view's features join each patch's. */
  multiScale?: boolean;
  /** Share of all training patches kept in the memory bank; default 10 % at 224, scaled so the bank keeps its size. */
  coresetRatio?: number;
  /** Dimensions of the random projection the coreset is chosen on. */
  projectionDims?: number;
  seed?: number;
  /** Bank rows compared in anomalib's image-score re-weighting. */
  neighbours?: number;
  blurSigma?: number;
  /**
   * Normal images kept apart for calibration. Without, each training image is scored against a bank built from the
   * others (cross-image folds), so that every image stays in the model's bank.
   */
  calibrationImages?: ImageSource[];
  /** Defective images (with masks when known) for F1-optimal thresholds. */
  anomalousImages?: LabelledCalibrationImage[];
  /** Transforms the product allows, for augmented views of the normal images when fewer than `augmentBelow`. */
  augment?: Augmentation[];
  /** Augment only when fewer training images than this are given (1 = never, except that one image always is). */
  augmentBelow?: number;
  /** Threshold at mean + sigmas x standard deviation of the calibration images' scores (the default rule). */
  sigmas?: number;
  /** Threshold at this quantile of the calibration images' scores instead (1 = the largest). */
  quantile?: number;
  /** Relative margin added above the threshold. */
  margin?: number;
  /** Quantile of the normal pixel scores that regions grow down to (thresholds.ts PIXEL_GROW_QUANTILE). */
  growQuantile?: number;
  /** Share of each region's peak height above that floor where it stops growing (thresholds.ts PIXEL_GROW_FRACTION). */
  growFraction?: number;
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
  quality: ModelQuality;
  bankRows: number;
  skipped: SkippedImage[];
  timingsMs: { features: number; coreset: number; calibration: number; total: number };
}

export const TRAINING_DEFAULTS = {
  // Measured best on cookie, tire and magnetic_tile (README): a slight crop keeps almost all of the image in view.
  resize: 'crop' as ResizeMode,
  resizeTo: 240,
  aggregation: DEFAULT_AGGREGATION as number,
  // Measured on the three shared sets (README, "Better features"): a dark tire gains 0.12 to 0.20 image AUROC with
  // its own statistics; cookie and magnetic_tile, of ordinary contrast, keep ImageNet's (theirs lost there).
  normalise: 'auto' as InputNormalisation,
  coresetRatio: 0.1,
  projectionDims: 128,
  seed: 0,
  neighbours: 9,
  blurSigma: 4,
  // Measured on cookie, tire and magnetic_tile (README, "Few images"): flips made the one-image models usable.
  augment: ['hflip', 'vflip'] as Augmentation[],
  augmentBelow: 10,
  // Calibration scores now come from every training image against a bank of the others: mean + 2 sd of a real
  // sample sat above most defects (cookie recall 0.75, 0 of 14 false alarms), 1.5 kept those false alarms at 0 with
  // recall 0.925 (README, "Few images").
  sigmas: 1.5,
  margin: 0,
  batchSize: 8,
};

/** Fewest normal images to train on: one, calibrated on augmented views of it (the model says it is uncalibrated). */
export const MIN_TRAINING_IMAGES = 1;

function checkOptions(
  o: typeof TRAINING_DEFAULTS & { quantile?: number; growQuantile?: number; growFraction?: number },
): void {
  const fail = (message: string, details: Record<string, unknown>) => {
    throw new InvalidOptionError(message, details);
  };
  if (!(AGGREGATIONS as readonly number[]).includes(o.aggregation))
    fail(`aggregation must be one of ${AGGREGATIONS.join(', ')} (neighbourhood side), got ${o.aggregation}`, {
      aggregation: o.aggregation,
    });
  if (!(INPUT_NORMALISATIONS as readonly string[]).includes(o.normalise))
    fail(`normalise must be one of ${INPUT_NORMALISATIONS.join(', ')}, got ${o.normalise}`, { normalise: o.normalise });
  if (!(o.coresetRatio > 0 && o.coresetRatio <= 1))
    fail(`coresetRatio must be in (0, 1], got ${o.coresetRatio}`, { coresetRatio: o.coresetRatio });
  const unknown = o.augment.filter((a) => !(AUGMENTATIONS as readonly string[]).includes(a));
  if (unknown.length > 0)
    fail(`augment takes ${AUGMENTATIONS.join(', ')}; got ${unknown.join(', ')}`, { augment: o.augment });
  if (!Number.isInteger(o.augmentBelow) || o.augmentBelow < 1)
    fail(`augmentBelow must be a positive integer, got ${o.augmentBelow}`, { augmentBelow: o.augmentBelow });
  if (!(o.sigmas >= 0 && o.sigmas <= 10)) fail(`sigmas must be in [0, 10], got ${o.sigmas}`, { sigmas: o.sigmas });
  if (o.quantile !== undefined && !(o.quantile > 0 && o.quantile <= 1))
    fail(`quantile must be in (0, 1], got ${o.quantile}`, { quantile: o.quantile });
  if (o.growQuantile !== undefined && !(o.growQuantile > 0 && o.growQuantile <= 1))
    fail(`growQuantile must be in (0, 1], got ${o.growQuantile}`, { growQuantile: o.growQuantile });
  if (o.growFraction !== undefined && !(o.growFraction >= 0 && o.growFraction < 1))
    fail(`growFraction must be in [0, 1), got ${o.growFraction}`, { growFraction: o.growFraction });
  if (!(o.margin >= 0 && o.margin < 10)) fail(`margin must be in [0, 10), got ${o.margin}`, { margin: o.margin });
  if (!Number.isInteger(o.projectionDims) || o.projectionDims < 8)
    fail(`projectionDims must be an integer >= 8, got ${o.projectionDims}`, { projectionDims: o.projectionDims });
  if (!Number.isInteger(o.neighbours) || o.neighbours < 1)
    fail(`neighbours must be a positive integer, got ${o.neighbours}`, { neighbours: o.neighbours });
  if (!(o.blurSigma >= 0)) fail(`blurSigma must be >= 0, got ${o.blurSigma}`, { blurSigma: o.blurSigma });
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > 64)
    fail(`batchSize must be an integer in 1..64, got ${o.batchSize}`, { batchSize: o.batchSize });
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

  const trainSources = images;
  const calibrationSources = o.calibrationImages ?? [];
  if (images.length < MIN_TRAINING_IMAGES)
    throw new DatasetError('DATASET_INVALID', 'no training images were given', { images: images.length });
  const views = images.length < o.augmentBelow || images.length === 1 ? augmentedViews(o.augment) : [];
  if (images.length === 1 && calibrationSources.length === 0 && views.length === 0)
    throw new InvalidOptionError(
      'one training image needs at least one allowed augmentation (augment) or calibration images to set a threshold',
      { augment: o.augment },
    );

  const backbone = await prepareBackbone({ backbone: o.backbone, layers: o.layers, aggregation: o.aggregation });
  const inputSize = backbone.manifest.input.size;
  const resolution = options.resolution ?? inputSize;
  const extractor = await FeatureExtractor.create(backbone, o.session, { resolution, multiScale: o.multiScale });
  const zoom = resolution / inputSize;
  // Defaults measured at the backbone's size keep their meaning at a higher resolution: the same share of the image
  // cropped away, and the same bank rows per training image.
  if (options.resizeTo === undefined) o.resizeTo = Math.round(TRAINING_DEFAULTS.resizeTo * zoom);
  if (options.coresetRatio === undefined) o.coresetRatio = TRAINING_DEFAULTS.coresetRatio / (zoom * zoom);
  const preprocessing: Preprocessing = {
    size: resolution,
    resize: o.resize,
    resizeTo: o.resize === 'crop' ? o.resizeTo : resolution,
    mean: backbone.manifest.input.mean,
    std: backbone.manifest.input.std,
  };
  if (preprocessing.resizeTo < preprocessing.size) {
    await extractor.release();
    throw new InvalidOptionError(
      `resizeTo (${preprocessing.resizeTo}) must be at least the input size ${preprocessing.size}`,
      {},
    );
  }
  if (o.normalise !== 'backbone') {
    // None readable: the backbone's statistics, and the feature pass below reports every image as skipped.
    const own = needsImageStatistics(o.normalise)
      ? await measureInputStatistics(trainSources, preprocessing)
      : undefined;
    const { applied, statistics } = chooseNormalisation(o.normalise, own, preprocessing);
    Object.assign(preprocessing, { mean: statistics.mean, std: statistics.std, normalise: applied });
  }
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
    const perImage = extractor.patchesPerImage;
    const dims = extractor.channels;
    // Views of image i follow the originals, image by image: view row v = count + i * views + k.
    const viewSet =
      views.length > 0
        ? await extractViewFeatures(
            trainSources.filter((s) => trainSet.names.includes(s.name)),
            views,
            extractor,
            preparer,
          )
        : { features: new Float32Array(0), names: [] };
    const originals = trainSet.names.length;
    const viewCount = originals + viewSet.names.length * views.length;
    const features = new Float32Array(viewCount * perImage * dims);
    features.set(trainSet.features);
    features.set(viewSet.features, originals * perImage * dims);
    // The evidence names the original image and the patch of it that the view shows.
    const patchMaps = views.map((v) => viewPatchSources(v, extractor.grid, preprocessing.size));
    const sourceOfRow = (row: number): number => {
      const view = Math.floor(row / perImage);
      const patch = row % perImage;
      if (view < originals) return row;
      const k = view - originals;
      const image = trainSet.names.indexOf(viewSet.names[Math.floor(k / views.length)]);
      return image * perImage + patchMaps[k % views.length][patch];
    };
    const featuresMs = performance.now() - t;

    // 2. Memory bank: greedy coreset chosen on a random projection, rows kept at full dimension.
    t = performance.now();
    const rows = viewCount * perImage;
    const size = Math.max(1, Math.min(rows, Math.round(rows * o.coresetRatio)));
    const projected = sparseRandomProjection(features, rows, dims, o.projectionDims, o.seed);
    const selected = await greedyCoreset(projected.data, rows, projected.dims, {
      size,
      seed: o.seed,
      onProgress: progress('coreset'),
    });
    const bank = new Float32Array(size * dims);
    const sources = new Uint32Array(size);
    selected.forEach((row, i) => {
      bank.set(features.subarray(row * dims, (row + 1) * dims), i * dims);
      sources[i] = sourceOfRow(row); // image index * patches per image + patch index
    });
    const coresetMs = performance.now() - t;

    // 3. Calibration: normal images the bank has not seen (given apart, or each training image against a bank of
    // the others), and labelled defective images, scored against the bank.
    t = performance.now();
    scorer = await PatchScorer.create({ data: bank, rows: size, dims }, perImage, o.neighbours, o.session);
    const ctx = { extractor, preparer, scorer, preprocessing, grid: extractor.grid, sigma: o.blurSigma };
    let calibrationSource: CalibrationSource = 'given-images';
    let unseenNormals: UnseenNormal[] | undefined;
    if (calibrationSources.length === 0) {
      // One image: its views are the only other "parts", each scored against a bank of the rest.
      const single = originals === 1;
      if (single && views.length === 0)
        throw new DatasetError(
          'DATASET_INVALID',
          `only 1 of ${trainSources.length} training images could be read, and no augmentation is allowed to calibrate on`,
          { skipped: trainSet.skipped },
        );
      calibrationSource = single ? 'augmented-views' : 'cross-image';
      const groupOfView = Array.from({ length: viewCount }, (_, v) =>
        single || v < originals ? v : trainSet.names.indexOf(viewSet.names[Math.floor((v - originals) / views.length)]),
      );
      const grouped: GroupedFeatures = {
        features,
        projected: projected.data,
        projectionDims: projected.dims,
        dims,
        patchesPerImage: perImage,
        groupOfView,
        scoredViews: single ? groupOfView.map((_, v) => v) : trainSet.names.map((_, i) => i),
      };
      const scored = await crossImageScores(grouped, {
        coresetRatio: o.coresetRatio,
        neighbours: o.neighbours,
        seed: o.seed,
        session: o.session,
        onProgress: progress('calibration'),
      });
      unseenNormals = scored.map(({ view, scores }) => ({
        score: scores.image.score,
        map: inputAnomalyMap(scores.distances, extractor.grid, preprocessing.size, o.blurSigma),
        size: trainSet.sizes[view < originals ? view : 0],
      }));
    }
    const calibration = await scoreCalibration(
      calibrationSources,
      o.anomalousImages ?? [],
      ctx,
      progress('calibration'),
      unseenNormals,
    );
    if (calibration.normalImageScores.length === 0) {
      throw new DatasetError('DATASET_INVALID', 'no calibration image could be read', { skipped: calibration.skipped });
    }
    const quality = judgeModelQuality({
      trainImages: originals,
      calibrationImages: calibrationSource === 'augmented-views' ? 1 : calibration.normalImageScores.length,
      calibration: calibrationSource,
    });
    const thresholds = calibrateThresholds(calibration, {
      rule: o.quantile !== undefined ? { quantile: o.quantile } : { sigmas: o.sigmas },
      margin: o.margin,
      growQuantile: o.growQuantile,
      growFraction: o.growFraction,
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
          ...(backbone.aggregation !== DEFAULT_AGGREGATION ? { aggregation: backbone.aggregation as Aggregation } : {}),
          grid: extractor.grid,
          channels: extractor.channels,
          ...(extractor.view.multiScale ? { multiScale: true } : {}),
        },
        preprocessing,
        memoryBank: { rows: size, dims, coresetRatio: o.coresetRatio, projectionDims: projected.dims, seed: o.seed },
        scoring: { neighbours: o.neighbours, blurSigma: o.blurSigma },
        thresholds,
        training: {
          images: trainSet.names.length,
          imageNames: trainSet.names,
          imageSizes: trainSet.sizes,
          heldOut: [],
          ...(views.length > 0 ? { augmentation: views.map((v) => v.name) } : {}),
          quality,
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
      quality,
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

/** Every PIXEL_SAMPLE_STEP-th pixel of each map (the normal images' maps, for the region grow level). */
function sampledPixels(maps: Float32Array[]): Float32Array {
  const out = new Float32Array(maps.reduce((a, m) => a + Math.ceil(m.length / PIXEL_SAMPLE_STEP), 0));
  let o = 0;
  for (const m of maps) for (let i = 0; i < m.length; i += PIXEL_SAMPLE_STEP) out[o++] = m[i];
  return out;
}

/** A normal image scored against a bank that does not hold it: its image score and input-sized anomaly map. */
interface UnseenNormal {
  score: number;
  map: Float32Array;
  /** Displayed width and height. */
  size: [number, number];
}

/**
 * @param unseen normals already scored (cross-image folds); scored alongside `normals`, which are given apart
 */
async function scoreCalibration(
  normals: ImageSource[],
  anomalies: LabelledCalibrationImage[],
  ctx: CalibrationContext,
  onProgress: (done: number, total: number) => void,
  unseen: UnseenNormal[] = [],
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
  const normalScores = [...unseen, ...(await score(normalSet))];
  const normalSizes = [...unseen.map((u) => u.size), ...normalSet.sizes];
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
    normalScores.forEach((s, i) => sample(toImageGeometry(s.map, ctx.preprocessing, ...normalSizes[i]), undefined));
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
    normalPixels: sampledPixels(normalScores.map((s) => s.map)),
    anomalousImageScores: anomalyScores.map((s) => s.score),
    pixelSamples:
      pixelScores.length > 0
        ? { scores: Float32Array.from(pixelScores), labels: Uint8Array.from(pixelLabels) }
        : undefined,
    skipped: [...normalSet.skipped, ...anomalySet.skipped],
  };
}

import type { BackboneManifest } from '../backbone/backbone-manifest.ts';
import { fitLogistic, logitsOf, stratifiedFolds, type FitOptions } from '../classification/logistic-regression.ts';
import { cropAroundMask, cropRegions, type Rect } from '../classification/region-crop.ts';
import { extractPooledFeatures } from '../classification/train-classifier.ts';
import type { LabelledSource } from '../dataset/labelled-folders.ts';
import { readMvtecCategory } from '../dataset/mvtec-category.ts';
import { CALIBRATED_THRESHOLD } from '../detection/detection-settings.ts';
import { Detector } from '../detection/detector.ts';
import { DatasetError } from '../errors.ts';
import { decodeMask } from '../image/decode-mask.ts';
import { inspectImage } from '../image/decode-image.ts';
import { classificationMetrics } from '../math/classification-metrics.ts';
import { seededRandom } from '../math/random.ts';
import { type TrainOptions, train } from '../training/train.ts';
import { drawImages } from './evaluate-category.ts';

export interface DefectTypeEvaluationOptions {
  /** The classifier's backbone (pooled features), as trainClassifier takes it. */
  backbone: { bytes: Uint8Array; manifest: BackboneManifest; fileName: string };
  folds?: number;
  seed?: number;
  /** Normal images the anomaly model is trained on, drawn from train/good (all when absent). */
  trainImages?: number;
  /** The detector's decision threshold (normalised; default the calibrated 0.5): lower finds more regions. */
  threshold?: number;
  /** The anomaly model's training options (its backbone, coreset ratio, ...). */
  anomaly?: TrainOptions;
  fit?: FitOptions;
  onProgress?: (p: { stage: 'anomaly-model' | 'detect' | 'features' | 'folds'; done: number; total: number }) => void;
}

/** Accuracy, macro F1 and the confusion matrix of one way of reading the held-out images. */
export interface TypingFigures {
  images: number;
  accuracy: number;
  macro_f1: number;
  per_class_f1: Record<string, number>;
  confusion_matrix: number[][];
}

export interface DefectTypeEvaluation {
  category: string;
  folds: number;
  classes: string[];
  defective_images: number;
  /** The anomaly model: how many normal images it learnt from, and the decision threshold its regions are cut at. */
  anomaly_train_images: number;
  threshold: number;
  /** Defective images on which the detector found no region at all. */
  no_region: number;
  /** Defective images with regions, none of which covers a ground-truth defect pixel. */
  region_off_defect: number;
  /** Held-out images typed from the detected region that covers the most of their ground-truth defect. */
  detected_regions: TypingFigures;
  /** Share of all defective images both found (a region on the defect) and typed right. */
  found_and_typed: number;
  /**
   * The same held-out detected regions, typed by a classifier that also learnt from the training folds' detected
   * regions (as a project can train its classifier on crops of its own detections).
   */
  detected_regions_trained_on_detections: TypingFigures;
  found_and_typed_trained_on_detections: number;
  /** The same folds' held-out images typed from the crop around their ground-truth region (the baseline). */
  ground_truth_regions: TypingFigures;
  timingsMs: { anomalyModel: number; detect: number; features: number; total: number };
}

const round = (v: number) => Number(v.toFixed(4));

/** How many of the mask's defect pixels lie inside a box. */
function coveredPixels(mask: Uint8Array, width: number, box: Rect): number {
  let n = 0;
  const x1 = Math.min(width, Math.ceil(box.x + box.width));
  const y1 = Math.min(mask.length / width, Math.ceil(box.y + box.height));
  for (let y = Math.max(0, Math.floor(box.y)); y < y1; y++)
    for (let x = Math.max(0, Math.floor(box.x)); x < x1; x++) if (mask[y * width + x]) n++;
  return n;
}

function figures(truth: number[], predicted: number[], classes: string[]): TypingFigures {
  const m = classificationMetrics(truth, predicted, classes.length);
  return {
    images: truth.length,
    accuracy: round(m.accuracy),
    macro_f1: round(m.macroF1),
    per_class_f1: Object.fromEntries(classes.map((c, i) => [c, round(m.perClass[i].f1)])),
    confusion_matrix: m.confusion,
  };
}

const pick = (features: Float32Array, dims: number, rows: number[]): Float32Array => {
  const out = new Float32Array(rows.length * dims);
  rows.forEach((r, k) => out.set(features.subarray(r * dims, (r + 1) * dims), k * dims));
  return out;
};

const argmax = (row: Float32Array): number => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);

/**
 * Defect types end to end on an MVTec-layout category: an anomaly model trained on train/good finds regions on each
 * defective test image; the region covering most of the ground-truth defect is cropped as the service crops it. In
 * k stratified folds, a classifier (logistic regression on pooled features) learns from the training folds' crops
 * around their ground-truth regions and types the held-out images' detected regions, and, as the baseline in the same
 * run, their ground-truth crops; a second classifier also learns from the training folds' detected regions. Images the
 * detector missed are counted, not typed.
 */
export async function evaluateDefectTypes(
  root: string,
  options: DefectTypeEvaluationOptions,
): Promise<DefectTypeEvaluation> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => {});
  const folds = options.folds ?? 5;
  const category = readMvtecCategory(root);
  const defective = category.test.filter((t) => t.anomalous && t.mask);
  const classes = [...new Set(defective.map((t) => t.defect))].sort();
  if (classes.length < 2 || defective.length < folds)
    throw new DatasetError(
      'DATASET_INVALID',
      `${root}: defect types need at least 2 defect folders with ground-truth masks and ${folds} images (got ${classes.length} types, ${defective.length} images)`,
      { path: root },
    );

  const normal =
    options.trainImages === undefined
      ? category.train
      : drawImages(category.train, options.trainImages, options.seed ?? 0);
  progress({ stage: 'anomaly-model', done: 0, total: 1 });
  const { artifact } = await train(normal, options.anomaly ?? {});
  progress({ stage: 'anomaly-model', done: 1, total: 1 });
  const anomalyMs = performance.now() - started;

  // Each defective image's ground-truth crop and, where the detector found one on the defect, its detected crop.
  const truthCrops: LabelledSource[] = [];
  const detectedCrops: (LabelledSource | null)[] = [];
  let noRegion = 0;
  let offDefect = 0;
  const detector = await Detector.load(artifact);
  try {
    for (const [i, t] of defective.entries()) {
      const bytes = await t.image.read();
      const maskBytes = await t.mask!.read();
      const truthCrop = await cropAroundMask(bytes, maskBytes);
      truthCrops.push({ label: t.defect, image: { name: t.image.name, read: async () => truthCrop } });
      const { result } = await detector.detect(bytes, { threshold: options.threshold });
      const info = await inspectImage(bytes);
      const mask = await decodeMask(maskBytes, info.width, info.height);
      let best: { box: Rect; covered: number; confidence: number } | null = null;
      for (const box of result.bounding_boxes) {
        const covered = coveredPixels(mask, info.width, box);
        if (
          covered > 0 &&
          (!best || covered > best.covered || (covered === best.covered && box.confidence > best.confidence))
        )
          best = { box, covered, confidence: box.confidence };
      }
      if (result.bounding_boxes.length === 0) noRegion++;
      else if (!best) offDefect++;
      if (best) {
        const [crop] = await cropRegions(bytes, [best.box], result.image);
        detectedCrops.push({ label: t.defect, image: { name: t.image.name, read: async () => crop } });
      } else detectedCrops.push(null);
      progress({ stage: 'detect', done: i + 1, total: defective.length });
    }
  } finally {
    await detector.release();
  }
  const detectMs = performance.now() - started - anomalyMs;

  const matched = detectedCrops.flatMap((c, i) => (c ? [i] : []));
  const truthFeatures = await extractPooledFeatures(truthCrops, options.backbone, (done, total) =>
    progress({ stage: 'features', done, total: total + matched.length }),
  );
  const detectedFeatures = await extractPooledFeatures(
    matched.map((i) => detectedCrops[i]!),
    options.backbone,
    (done) =>
      progress({ stage: 'features', done: truthCrops.length + done, total: truthCrops.length + matched.length }),
  );
  // A crop is a PNG the pipeline made itself, so none is ever skipped; a mismatch would misalign rows below.
  if (truthFeatures.kept.length !== truthCrops.length || detectedFeatures.kept.length !== matched.length)
    throw new DatasetError('DATASET_INVALID', 'a region crop could not be read', {
      skipped: [...truthFeatures.skipped, ...detectedFeatures.skipped],
    });
  const featuresMs = performance.now() - started - anomalyMs - detectMs;
  const { dims } = truthFeatures;
  const detectedRow = new Map(matched.map((image, row) => [image, row]));

  const labels = defective.map((t) => classes.indexOf(t.defect));
  const foldOf = stratifiedFolds(labels, folds, seededRandom(options.seed ?? 0));
  const truthPredicted: number[] = new Array(labels.length);
  const detectedTruth: number[] = [];
  const detectedPredicted: number[] = [];
  const bothPredicted: number[] = [];
  for (let f = 0; f < folds; f++) {
    const trainRows = labels.flatMap((_, i) => (foldOf[i] !== f ? [i] : []));
    const testRows = labels.flatMap((_, i) => (foldOf[i] === f ? [i] : []));
    if (testRows.length === 0) continue;
    const model = fitLogistic(
      pick(truthFeatures.features, dims, trainRows),
      trainRows.map((i) => labels[i]),
      dims,
      classes.length,
      options.fit,
    );
    const truthLogits = logitsOf(model, pick(truthFeatures.features, dims, testRows));
    testRows.forEach((i, k) => {
      truthPredicted[i] = argmax(truthLogits.subarray(k * classes.length, (k + 1) * classes.length));
    });
    const held = testRows.filter((i) => detectedRow.has(i));
    if (held.length > 0) {
      const heldFeatures = pick(
        detectedFeatures.features,
        dims,
        held.map((i) => detectedRow.get(i)!),
      );
      const trainDetected = trainRows.filter((i) => detectedRow.has(i));
      const both = new Float32Array((trainRows.length + trainDetected.length) * dims);
      both.set(pick(truthFeatures.features, dims, trainRows));
      both.set(
        pick(
          detectedFeatures.features,
          dims,
          trainDetected.map((i) => detectedRow.get(i)!),
        ),
        trainRows.length * dims,
      );
      const bothModel = fitLogistic(
        both,
        [...trainRows, ...trainDetected].map((i) => labels[i]),
        dims,
        classes.length,
        options.fit,
      );
      const logits = logitsOf(model, heldFeatures);
      const bothLogits = logitsOf(bothModel, heldFeatures);
      held.forEach((i, k) => {
        detectedTruth.push(labels[i]);
        detectedPredicted.push(argmax(logits.subarray(k * classes.length, (k + 1) * classes.length)));
        bothPredicted.push(argmax(bothLogits.subarray(k * classes.length, (k + 1) * classes.length)));
      });
    }
    progress({ stage: 'folds', done: f + 1, total: folds });
  }
  const typedRight = (predicted: number[]) => detectedTruth.filter((t, k) => t === predicted[k]).length;
  return {
    category: category.root,
    folds,
    classes,
    defective_images: defective.length,
    anomaly_train_images: normal.length,
    threshold: options.threshold ?? CALIBRATED_THRESHOLD,
    no_region: noRegion,
    region_off_defect: offDefect,
    detected_regions: figures(detectedTruth, detectedPredicted, classes),
    found_and_typed: round(typedRight(detectedPredicted) / defective.length),
    detected_regions_trained_on_detections: figures(detectedTruth, bothPredicted, classes),
    found_and_typed_trained_on_detections: round(typedRight(bothPredicted) / defective.length),
    ground_truth_regions: figures(labels, truthPredicted, classes),
    timingsMs: {
      anomalyModel: Math.round(anomalyMs),
      detect: Math.round(detectMs),
      features: Math.round(featuresMs),
      total: Math.round(performance.now() - started),
    },
  };
}

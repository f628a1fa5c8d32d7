import { DEFAULT_AGGREGATION } from '../backbone/feature-model.ts';
import type { ModelArtifact } from '../artifact/model-artifact.ts';
import { readMvtecCategory } from '../dataset/mvtec-category.ts';
import type { StageTimings } from '../detection/detection-result.ts';
import { Detector } from '../detection/detector.ts';
import { InvalidOptionError } from '../errors.ts';
import { appliedNormalisation } from '../features/input-statistics.ts';
import { seededRandom } from '../math/random.ts';
import type { ModelQuality } from '../training/model-quality.ts';
import { type TrainingReport, type TrainOptions, train } from '../training/train.ts';
import { round, scoreLabelledImages } from './score-labelled-images.ts';

export interface EvaluationProgress {
  stage: 'features' | 'coreset' | 'calibration' | 'test';
  done: number;
  total: number;
}

export interface EvaluationOptions extends TrainOptions {
  /** Train on this many images drawn at random from train/good (all when absent). */
  trainImages?: number;
  /** Seed of that draw. */
  drawSeed?: number;
  onEvaluationProgress?: (p: EvaluationProgress) => void;
}

/** `count` images drawn without replacement by a seeded shuffle, in their folder order. */
export function drawImages<T>(images: T[], count: number, seed: number): T[] {
  if (!Number.isInteger(count) || count < 1 || count > images.length)
    throw new InvalidOptionError(`trainImages must be an integer in 1..${images.length}, got ${count}`, {
      trainImages: count,
      available: images.length,
    });
  const random = seededRandom(seed + 31_337);
  const order = images.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const kept = new Set(order.slice(0, count));
  return images.filter((_, i) => kept.has(i));
}

/** Mean, lowest and highest of a figure over draws. */
export interface Spread {
  mean: number;
  min: number;
  max: number;
}

export interface TrainingSizeReport {
  category: string;
  trainImages: number;
  draws: number;
  quality: string[];
  imageAuroc: Spread;
  falseAlarmRate: Spread;
  falseAlarms: Spread;
  good: number;
  perDraw: { seed: number; imageAuroc: number; falseAlarms: number; quality: string }[];
}

/**
 * `draws` evaluations, each training on `trainImages` images drawn with its own seed (seed, seed + 1, ...): how
 * good a model from that many images is, and how much it depends on which images.
 */
export async function evaluateTrainingSize(
  root: string,
  options: EvaluationOptions & { trainImages: number; draws: number },
): Promise<TrainingSizeReport> {
  const base = options.drawSeed ?? 0;
  const reports: EvaluationReport[] = [];
  for (let d = 0; d < options.draws; d++)
    reports.push((await evaluateCategory(root, { ...options, drawSeed: base + d })).report);
  const spread = (values: number[]): Spread => ({
    mean: round(values.reduce((a, v) => a + v, 0) / values.length),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  });
  return {
    category: reports[0].category,
    trainImages: options.trainImages,
    draws: options.draws,
    quality: [...new Set(reports.map((r) => r.quality))],
    imageAuroc: spread(reports.map((r) => r.imageAuroc)),
    falseAlarmRate: spread(reports.map((r) => r.falseAlarms.rate)),
    falseAlarms: spread(reports.map((r) => r.falseAlarms.flagged)),
    good: reports[0].falseAlarms.good,
    perDraw: reports.map((r, d) => ({
      seed: base + d,
      imageAuroc: r.imageAuroc,
      falseAlarms: r.falseAlarms.flagged,
      quality: r.quality,
    })),
  };
}

export interface EvaluationReport {
  category: string;
  settings: {
    backbone: string;
    layers: string[];
    /** Side of the feature averaging neighbourhood. */
    aggregation: number;
    /** Input statistics: the backbone's or the training images' own. */
    normalise: string;
    resize: string;
    resizeTo: number;
    coresetRatio: number;
    thresholdMethod: string;
    calibration: string;
  };
  counts: {
    train: number;
    calibration: number;
    test: number;
    good: number;
    anomalous: number;
    withMask: number;
    skipped: number;
  };
  imageAuroc: number;
  /** Pixel AUROC over every pixel of the images at their own size (what a user sees). */
  pixelAuroc: number;
  /** Pixel AUROC at the model input (224 x 224, cropped when the model crops), the protocol anomalib reports. */
  pixelAurocInput: number;
  /** Per-region overlap up to 30 % FPR (AUPRO, normalised), over the images at their own size. */
  aupro: number;
  /** At the calibrated pixel threshold, over the defective images with masks: mean mask IoU and mean mask F1 (Dice). */
  maskIou: number;
  maskF1: number;
  /** Boxes on good test images at the calibrated thresholds. */
  falseBoxes: number;
  /** Image-level F1 at the calibrated threshold (what a user gets without tuning), and its precision and recall. */
  f1: number;
  precision: number;
  recall: number;
  /** Good test images flagged at the calibrated threshold, and their share. */
  falseAlarms: { flagged: number; good: number; rate: number };
  /** The model's quality verdict. */
  quality: ModelQuality['verdict'];
  /** Share of defective images flagged, per defect type. */
  recallByDefect: Record<string, number>;
  /** Image AUROC of each defect type against all the good images. */
  imageAurocByDefect: Record<string, number>;
  timings: { trainMs: TrainingReport['timingsMs']; detectMsPerImage: StageTimings & { total: number } };
}

/**
 * Trains on train/good, calibrates on validation/good (or held-out training images), and scores every test image:
 * image AUROC over all test images, pixel AUROC over the good ones and the defective ones that have masks.
 */
export async function evaluateCategory(
  root: string,
  options: EvaluationOptions = {},
): Promise<{ report: EvaluationReport; artifact: ModelArtifact }> {
  const category = readMvtecCategory(root);
  const report = (p: EvaluationProgress) => options.onEvaluationProgress?.(p);
  const trainImages =
    options.trainImages === undefined
      ? category.train
      : drawImages(category.train, options.trainImages, options.drawSeed ?? 0);
  const { artifact, report: training } = await train(trainImages, {
    ...options,
    calibrationImages: options.calibrationImages ?? (category.validation.length > 0 ? category.validation : undefined),
    onProgress: (p) => report(p),
  });
  const detector = await Detector.load(artifact);
  try {
    const scored = await scoreLabelledImages(detector, artifact, category.test, (done, total) =>
      report({ stage: 'test', done, total }),
    );
    const m = artifact.manifest;
    const evaluation: EvaluationReport = {
      category: root.split(/[\\/]/).filter(Boolean).pop() ?? root,
      settings: {
        backbone: m.backbone.id,
        layers: m.backbone.layers,
        aggregation: m.backbone.aggregation ?? DEFAULT_AGGREGATION,
        normalise: appliedNormalisation(m.preprocessing),
        resize: m.preprocessing.resize,
        resizeTo: m.preprocessing.resizeTo,
        coresetRatio: m.memoryBank.coresetRatio,
        thresholdMethod: m.thresholds.method,
        calibration:
          category.validation.length > 0 && !options.calibrationImages
            ? 'validation/good'
            : options.calibrationImages
              ? 'given images'
              : training.quality.calibration,
      },
      counts: {
        train: training.trainImages,
        calibration: training.calibrationImages,
        ...scored.counts,
      },
      imageAuroc: scored.imageAuroc,
      pixelAuroc: scored.pixelAuroc,
      pixelAurocInput: scored.pixelAurocInput,
      aupro: scored.aupro,
      maskIou: scored.maskIou,
      maskF1: scored.maskF1,
      falseBoxes: scored.falseBoxes,
      f1: scored.f1,
      precision: scored.precision,
      falseAlarms: scored.falseAlarms,
      quality: training.quality.verdict,
      recall: scored.recall,
      recallByDefect: scored.recallByDefect,
      imageAurocByDefect: scored.imageAurocByDefect,
      timings: { trainMs: training.timingsMs, detectMsPerImage: scored.detectMsPerImage },
    };
    artifact.manifest.metrics = {
      imageAuroc: evaluation.imageAuroc,
      pixelAuroc: evaluation.pixelAuroc,
      f1: evaluation.f1,
      images: scored.counts.test,
      source: `faultline eval ${evaluation.category}`,
    };
    return { report: evaluation, artifact };
  } finally {
    await detector.release();
  }
}

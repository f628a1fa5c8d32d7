import type { ArtifactManifest } from '../artifact/artifact-manifest.ts';
import { f1OptimalThreshold } from '../math/auroc.ts';
import {
  type NormalRule,
  normaliseScore,
  normalThreshold,
  quantile,
  type ScoreScale,
  scaleAt,
  scaleFromNormals,
  scaleFromRange,
  scoreHistogram,
} from './score-scale.ts';

export type Thresholds = ArtifactManifest['thresholds'];

/** Scores of the calibration images: image scores, and per image the largest pixel of its anomaly map. */
export interface CalibrationScores {
  normalImageScores: number[];
  normalPixelMaxima: number[];
  /** Pixel scores sampled from the normal images' maps, for the level regions grow down to. */
  normalPixels?: Float32Array;
  /** Labelled defective images, when given. */
  anomalousImageScores: number[];
  /** Pixel scores and labels sampled from defective images with masks and from normal images. */
  pixelSamples?: { scores: Float32Array; labels: Uint8Array };
}

export interface NormalCalibrationOptions {
  /** Where the threshold goes among the normal scores. */
  rule: NormalRule;
  /** Relative margin added above it. */
  margin: number;
  /** Quantile of the normal pixels that regions grow down to (default PIXEL_GROW_QUANTILE). */
  growQuantile?: number;
  /** Share of each region's peak height above that floor that it stops at (default PIXEL_GROW_FRACTION). */
  growFraction?: number;
}

/**
 * Regions grow from the pixel threshold down to this quantile of the normal calibration images' pixel scores (1: no
 * growing). Off by default: at 0.99 cookie's mask IoU fell to 0.29 (README, "Masks and boxes"); the level is still
 * to be chosen by measurement on the three sets.
 */
export const PIXEL_GROW_QUANTILE = 1;

/**
 * Each region grows down to the floor plus this share of its peak's height above the floor (regions.ts growMask; 0:
 * down to the floor itself, plain hysteresis).
 */
export const PIXEL_GROW_FRACTION = 0;

/**
 * The pixel scale with its grow level (raw, never above the threshold) and the regions' share of their peak, when
 * normal pixels were sampled.
 */
function withGrowLevel(
  pixel: ScoreScale,
  normalPixels: Float32Array | undefined,
  q: number,
  fraction: number,
): ScoreScale & { grow?: number; growFraction?: number } {
  if (!normalPixels || normalPixels.length === 0 || q >= 1) return pixel;
  return {
    ...pixel,
    grow: Math.min(pixel.threshold, quantile(normalPixels, q)),
    ...(fraction > 0 ? { growFraction: fraction } : {}),
  };
}

/**
 * Where the calibration normals' high end is placed, the score that maps to the top of the Normal band: mean + 1
 * standard deviation of their scores (an 84th percentile under a normal distribution fitted to them), below the
 * default threshold rule (mean + 1.5 sd) so that the anchor always falls under it. Measured on cookie with every
 * training image calibrating against the others: 13 of 14 unseen good cookies read Normal (at mean + 1.645 sd the
 * anchor passed the threshold and was dropped: 7 of 14). README, "Score bands".
 */
export const NORMAL_ANCHOR_RULE: NormalRule = { sigmas: 1.0 };

/**
 * The image scale with its normal anchor (the normals' high end), and where the calibration images fall on it. The
 * anchor is left out when it would not lie strictly between the lowest score and the threshold (one normal image, or
 * normals above an F1-optimal threshold): that scale stays linear below the threshold.
 */
function withNormalAnchor(thresholds: Omit<Thresholds, 'histogram'>, scores: CalibrationScores): Thresholds {
  const normal = normalThreshold(scores.normalImageScores, NORMAL_ANCHOR_RULE);
  const { image } = thresholds;
  const anchoredImage = image.min < normal && normal < image.threshold ? { ...image, normal } : image;
  const normalised = (raw: number[]) => scoreHistogram(raw.map((r) => normaliseScore(r, anchoredImage)));
  return {
    ...thresholds,
    image: anchoredImage,
    histogram: { normals: normalised(scores.normalImageScores), defects: normalised(scores.anomalousImageScores) },
    normalScores: [...scores.normalImageScores],
  };
}

/**
 * Thresholds from normal images only: placed by the rule among their image scores, and among their anomaly maps'
 * maxima for pixels (so that a normal image rarely has any region). With labelled defective images, the F1-optimal
 * threshold.
 */
export function calibrateThresholds(scores: CalibrationScores, options: NormalCalibrationOptions): Thresholds {
  const { normalImageScores: normals, anomalousImageScores: anomalies } = scores;
  const calibrationImages = normals.length + anomalies.length;
  // Pixels: the rule over the normal maps' maxima, like the image threshold, so that a normal image rarely shows a
  // region. (Not their largest: with every training image calibrating, that is an extreme of dozens and hid cracks.)
  const maxima = scores.normalPixelMaxima;
  const grow = (pixel: ScoreScale) =>
    withGrowLevel(
      pixel,
      scores.normalPixels,
      options.growQuantile ?? PIXEL_GROW_QUANTILE,
      options.growFraction ?? PIXEL_GROW_FRACTION,
    );
  const pixelFromNormals = scaleAt(normalThreshold(maxima, options.rule) * (1 + options.margin), maxima);
  if (anomalies.length === 0 || normals.length === 0) {
    const method = 'quantile' in options.rule ? 'normal-quantile' : 'normal-sigma';
    return withNormalAnchor(
      {
        method,
        image: scaleFromNormals(normals, options.rule, options.margin),
        pixel: grow(pixelFromNormals),
        calibrationImages,
      },
      scores,
    );
  }
  const all = [...normals, ...anomalies];
  const labels = [...normals.map(() => 0), ...anomalies.map(() => 1)];
  const image = scaleFromRange(f1OptimalThreshold(all, labels).threshold, all);
  let pixel: ScoreScale = pixelFromNormals;
  if (scores.pixelSamples && scores.pixelSamples.labels.some((l) => l === 1)) {
    pixel = scaleFromRange(
      f1OptimalThreshold(scores.pixelSamples.scores, scores.pixelSamples.labels).threshold,
      scores.pixelSamples.scores,
    );
  }
  return withNormalAnchor({ method: 'f1-optimal', image, pixel: grow(pixel), calibrationImages }, scores);
}

/**
 * The image threshold recalibrated with confirmed defects: the F1-optimal threshold over the model's calibration
 * normals (their raw scores as kept in the model) and the defects' raw scores, the scale around it anchored as in
 * training. The pixel threshold is kept: reviews give no masks. Needs at least one defect.
 */
export function recalibrateWithDefects(base: Thresholds, normals: number[], defects: number[]): Thresholds {
  const all = [...normals, ...defects];
  const labels = [...normals.map(() => 0), ...defects.map(() => 1)];
  const best = f1OptimalThreshold(all, labels).threshold;
  // Halfway down to the next lower score: the same decisions on every calibration score (so the same F1), with a
  // margin on both sides instead of the lowest caught defect sitting exactly on the threshold.
  const below = all.reduce((m, v) => (v < best && v > m ? v : m), -Infinity);
  const halfway = below + (best - below) / 2;
  const image = scaleFromRange(Number.isFinite(below) && halfway > below ? halfway : best, all); // floats too close: at best
  return withNormalAnchor(
    { method: 'f1-optimal', image, pixel: base.pixel, calibrationImages: normals.length + defects.length },
    { normalImageScores: normals, normalPixelMaxima: [], anomalousImageScores: defects },
  );
}

import type { ArtifactManifest } from '../artifact/artifact-manifest.ts';
import { f1OptimalThreshold } from '../math/auroc.ts';
import {
  type NormalRule,
  normalThreshold,
  type ScoreScale,
  scaleAt,
  scaleFromNormals,
  scaleFromRange,
} from './score-scale.ts';

export type Thresholds = ArtifactManifest['thresholds'];

/** Scores of the calibration images: image scores, and per image the largest pixel of its anomaly map. */
export interface CalibrationScores {
  normalImageScores: number[];
  normalPixelMaxima: number[];
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
  const pixelFromNormals = scaleAt(normalThreshold(maxima, options.rule) * (1 + options.margin), maxima);
  if (anomalies.length === 0 || normals.length === 0) {
    const method = 'quantile' in options.rule ? 'normal-quantile' : 'normal-sigma';
    return {
      method,
      image: scaleFromNormals(normals, options.rule, options.margin),
      pixel: pixelFromNormals,
      calibrationImages,
    };
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
  return { method: 'f1-optimal', image, pixel, calibrationImages };
}

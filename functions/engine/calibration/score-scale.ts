import {
  CALIBRATED_NORMAL_CEILING,
  CALIBRATED_THRESHOLD,
  type DetectionSettings,
} from '../detection/detection-settings.ts';

/**
 * How raw distances become normalised scores in 0..1. Above the threshold, as anomalib's min-max normalisation:
 * clamp((raw - threshold) / (max - min) + 0.5, 0, 1), so the threshold maps to CALIBRATED_THRESHOLD (0.5). Below it,
 * with `normal` (the calibration normals' high end), piecewise linear through min -> 0, normal ->
 * CALIBRATED_NORMAL_CEILING (0.3) and threshold -> 0.5, so that normal parts read Normal; without it (models trained
 * before it existed, or too few distinct normal scores), the same straight line as above.
 */
export interface ScoreScale {
  threshold: number;
  min: number;
  max: number;
  normal?: number;
}

/** Whether the scale's normal anchor can be used: strictly between the lowest score and the threshold. */
const anchored = (scale: ScoreScale): scale is ScoreScale & { normal: number } =>
  scale.normal !== undefined && scale.min < scale.normal && scale.normal < scale.threshold;

const clampUnit = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

export function normaliseScore(raw: number, scale: ScoreScale): number {
  const range = scale.max - scale.min;
  if (!(range > 0)) return raw >= scale.threshold ? 1 : 0;
  if (raw < scale.threshold && anchored(scale)) {
    const { min, normal, threshold } = scale;
    return clampUnit(
      raw < normal
        ? ((raw - min) / (normal - min)) * CALIBRATED_NORMAL_CEILING
        : CALIBRATED_NORMAL_CEILING +
            ((raw - normal) / (threshold - normal)) * (CALIBRATED_THRESHOLD - CALIBRATED_NORMAL_CEILING),
    );
  }
  return clampUnit((raw - scale.threshold) / range + CALIBRATED_THRESHOLD);
}

/** Normalises a whole map in place. */
export function normaliseMap(map: Float32Array, scale: ScoreScale): Float32Array {
  if (anchored(scale)) {
    for (let i = 0; i < map.length; i++) map[i] = normaliseScore(map[i], scale);
    return map;
  }
  // The common case (pixel scales have no anchor) stays a tight loop: maps reach a million values.
  const range = scale.max - scale.min;
  const inv = range > 0 ? 1 / range : 0;
  for (let i = 0; i < map.length; i++) {
    const v = range > 0 ? (map[i] - scale.threshold) * inv + CALIBRATED_THRESHOLD : map[i] >= scale.threshold ? 1 : 0;
    map[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return map;
}

export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * How the threshold is placed from normal scores alone: mean + sigmas x standard deviation (robust with a handful of
 * calibration images, where a high quantile is just the largest score), or a quantile.
 */
export type NormalRule = { sigmas: number } | { quantile: number };

/** Fewest normal scores for a standard deviation worth using; below, the sigma rule takes the largest score. */
const MIN_SCORES_FOR_SIGMA = 3;

export function normalThreshold(normalScores: ArrayLike<number>, rule: NormalRule): number {
  if ('quantile' in rule) return quantile(normalScores, rule.quantile);
  const n = normalScores.length;
  if (n < MIN_SCORES_FOR_SIGMA) return quantile(normalScores, 1);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += normalScores[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (normalScores[i] - mean) ** 2;
  return mean + rule.sigmas * Math.sqrt(ss / (n - 1));
}

/**
 * Scale from normal images only: the threshold from the rule, times (1 + margin); the lowest normal score maps to 0,
 * and the range is symmetric around the threshold. A bare number is a quantile.
 */
export function scaleFromNormals(
  normalScores: ArrayLike<number>,
  rule: NormalRule | number,
  margin: number,
): ScoreScale {
  return scaleAt(
    normalThreshold(normalScores, typeof rule === 'number' ? { quantile: rule } : rule) * (1 + margin),
    normalScores,
  );
}

/** The scale around a given threshold: the lowest normal score maps to 0, the range symmetric around the threshold. */
export function scaleAt(threshold: number, normalScores: ArrayLike<number>): ScoreScale {
  const min = Math.min(...Array.from(normalScores));
  // The floor scales with the threshold: a fixed epsilon vanishes below half an ulp of a large threshold.
  const range = Math.max(threshold - min, Math.abs(threshold) * 1e-6, 1e-12);
  return { threshold, min, max: threshold + range };
}

/** Scale from scores whose threshold was chosen elsewhere (e.g. F1-optimal), with the range of all scores seen. */
export function scaleFromRange(threshold: number, scores: ArrayLike<number>): ScoreScale {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] < min) min = scores[i];
    if (scores[i] > max) max = scores[i];
  }
  return { threshold, min, max: max > min ? max : min + 1 };
}

export type Confidence = 'Low' | 'Medium' | 'High';

/**
 * Where a score lies on the calibrated scale (decision at CALIBRATED_THRESHOLD) when the decision threshold is
 * `threshold`: the bands are set on the calibrated scale and move with the threshold, stretched linearly below and
 * above it, so that a score at or above the threshold always lands in a band at or above 0.5 and one below it in a
 * band below 0.5 (s < t gives s / t < 1 in floating point too).
 */
export function onCalibratedScale(score: number, threshold: number): number {
  if (threshold === CALIBRATED_THRESHOLD) return score;
  return score < threshold
    ? (score / threshold) * CALIBRATED_THRESHOLD
    : CALIBRATED_THRESHOLD + ((score - threshold) / (1 - threshold)) * (1 - CALIBRATED_THRESHOLD);
}

/** Where a bound set on the calibrated scale lies when the decision threshold is `threshold` (onCalibratedScale's inverse). */
export function boundAtThreshold(bound: number, threshold: number): number {
  if (threshold === CALIBRATED_THRESHOLD) return bound;
  return bound < CALIBRATED_THRESHOLD
    ? (bound / CALIBRATED_THRESHOLD) * threshold
    : threshold + ((bound - CALIBRATED_THRESHOLD) / (1 - CALIBRATED_THRESHOLD)) * (1 - threshold);
}

/** The severity band of a normalised score, the bands moved with the decision threshold (see onCalibratedScale). */
export function severityOf(normalised: number, settings: DetectionSettings, threshold = CALIBRATED_THRESHOLD): string {
  const position = onCalibratedScale(normalised, threshold);
  for (const band of settings.severityBands) if (band.below === undefined || position < band.below) return band.name;
  return settings.severityBands[settings.severityBands.length - 1].name;
}

/** How sure the decision is: the normalised distance from the decision threshold. */
export function confidenceOf(
  normalised: number,
  settings: DetectionSettings,
  decisionAt = CALIBRATED_THRESHOLD,
): Confidence {
  // The epsilon keeps band edges exact despite float subtraction (0.6 - 0.5 < 0.1).
  const d = Math.abs(normalised - decisionAt) + 1e-9;
  return d >= settings.confidence.high ? 'High' : d >= settings.confidence.medium ? 'Medium' : 'Low';
}

/** Bins of the histograms of normalised scores a model keeps (equal widths over 0..1). */
export const SCORE_HISTOGRAM_BINS = 20;

/** Counts of normalised scores in SCORE_HISTOGRAM_BINS equal bins over 0..1 (1 falls in the last). */
export function scoreHistogram(normalised: ArrayLike<number>): number[] {
  const counts = new Array<number>(SCORE_HISTOGRAM_BINS).fill(0);
  for (let i = 0; i < normalised.length; i++)
    counts[Math.min(SCORE_HISTOGRAM_BINS - 1, Math.max(0, Math.floor(normalised[i] * SCORE_HISTOGRAM_BINS)))]++;
  return counts;
}

import { CALIBRATED_THRESHOLD, type DetectionSettings } from '../detection/detection-settings.ts';

/**
 * How raw distances become normalised scores in 0..1: the threshold maps to CALIBRATED_THRESHOLD (0.5), as
 * anomalib's min-max normalisation: clamp((raw - threshold) / (max - min) + 0.5, 0, 1).
 */
export interface ScoreScale {
  threshold: number;
  min: number;
  max: number;
}

export function normaliseScore(raw: number, scale: ScoreScale): number {
  const range = scale.max - scale.min;
  const v = range > 0 ? (raw - scale.threshold) / range + CALIBRATED_THRESHOLD : raw >= scale.threshold ? 1 : 0;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Normalises a whole map in place. */
export function normaliseMap(map: Float32Array, scale: ScoreScale): Float32Array {
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

export function severityOf(normalised: number, settings: DetectionSettings): string {
  for (const band of settings.severityBands) if (band.below === undefined || normalised < band.below) return band.name;
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

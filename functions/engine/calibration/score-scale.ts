import type { DetectionSettings } from '../detection/detection-settings.ts';

/**
 * How raw distances become normalised scores in 0..1: the threshold maps to 0.5, as anomalib's min-max
 * normalisation: clamp((raw - threshold) / (max - min) + 0.5, 0, 1).
 */
export interface ScoreScale {
  threshold: number;
  min: number;
  max: number;
}

export function normaliseScore(raw: number, scale: ScoreScale): number {
  const range = scale.max - scale.min;
  const v = range > 0 ? (raw - scale.threshold) / range + 0.5 : raw >= scale.threshold ? 1 : 0;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Normalises a whole map in place. */
export function normaliseMap(map: Float32Array, scale: ScoreScale): Float32Array {
  const range = scale.max - scale.min;
  const inv = range > 0 ? 1 / range : 0;
  for (let i = 0; i < map.length; i++) {
    const v = range > 0 ? (map[i] - scale.threshold) * inv + 0.5 : map[i] >= scale.threshold ? 1 : 0;
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
 * Scale from normal images only: the threshold is a high quantile of their scores times (1 + margin); the lowest
 * normal score maps to 0, and the range is symmetric around the threshold.
 */
export function scaleFromNormals(normalScores: ArrayLike<number>, q: number, margin: number): ScoreScale {
  const threshold = quantile(normalScores, q) * (1 + margin);
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
export function confidenceOf(normalised: number, settings: DetectionSettings, decisionAt = 0.5): Confidence {
  // The epsilon keeps band edges exact despite float subtraction (0.6 - 0.5 < 0.1).
  const d = Math.abs(normalised - decisionAt) + 1e-9;
  return d >= settings.confidence.high ? 'High' : d >= settings.confidence.medium ? 'Medium' : 'Low';
}

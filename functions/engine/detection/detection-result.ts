import type { Confidence } from '../calibration/score-scale.ts';
import type { ModelQualityVerdict } from '../training/model-quality.ts';
import type { Evidence } from './evidence.ts';
import type { BoundingBox } from './regions.ts';

/** Time spent in each stage of detection, in milliseconds (per image; a batch's shared stages are divided). */
export interface StageTimings {
  decode: number;
  preprocess: number;
  backbone: number;
  search: number;
  postprocess: number;
  encode: number;
}

export const STAGES: (keyof StageTimings)[] = ['decode', 'preprocess', 'backbone', 'search', 'postprocess', 'encode'];

/**
 * The answer for one image. Field names are the ones the existing clients read (snake_case), so the HTTP API can
 * return this object as it is.
 */
export interface DetectionResult {
  /** Normalised score in 0..1; the model's calibrated threshold maps to 0.5. */
  anomaly_score: number;
  /** The severity band of anomaly_score (Normal, Potential, Overloway, Faulty by default). */
  classification: string;
  confidence: Confidence;
  is_anomalous: boolean;
  /** The decision threshold used, in the units of anomaly_score (0.5 unless the request gave one). */
  threshold: number;
  /** Share of the image whose pixel score is at or above the threshold, in percent. */
  damage_percentage: number;
  bounding_boxes: BoundingBox[];
  /** For the strongest region, the nearest normal patch; null when nothing is anomalous. */
  evidence: Evidence | null;
  /** The raw PatchCore image score (feature distance), for audits and re-calibration. */
  raw_score: number;
  image: { width: number; height: number; format: string };
  /** Seconds spent on this image, all stages (its share of a batch's shared stages; visualizations included when asked for). */
  processing_time: number;
  timings_ms: StageTimings;
  model_version: string;
  /** The model's quality verdict: an answer from a weak model says so. */
  model_quality: { verdict: ModelQualityVerdict; reason: string };
}

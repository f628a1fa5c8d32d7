import { z } from 'zod';

/**
 * The owner of the score facts that the service, the API and the CLI repeat: the normalised scale (0..1, the
 * calibrated threshold at 0.5), the threshold's range and step, and the severity bands (their defaults and rules).
 */

/** Where calibration puts the model's threshold on the normalised scale, and so the default decision threshold. */
export const CALIBRATED_THRESHOLD = 0.5;

/**
 * Where calibration puts the high end of its normal images' scores on the normalised scale: the top of the Normal band,
 * so that normal parts read Normal and Potential means "higher than any normal seen, below the limit".
 */
export const CALIBRATED_NORMAL_CEILING = 0.3;

/** A decision threshold's range: strictly inside 0..1 (0 would flag every image, 1 none). */
export const isInsideScoreRange = (threshold: number): boolean => threshold > 0 && threshold < 1;

/**
 * The finest step a score setting (a decision threshold, a band's bound) takes on the normalised 0..1 scale: finer
 * means nothing for a score, and it keeps every setting inside what DynamoDB stores (no magnitude under 1e-130, 38
 * digits; a JS number has at most 17).
 */
export const SCORE_STEP = 0.000001;
const scoreRange = (max: number) => `a normalised score from ${SCORE_STEP} to ${max}`;

/** A decision threshold: strictly inside 0..1, in steps no finer than SCORE_STEP at either end. */
export const thresholdValue = z
  .number()
  .min(SCORE_STEP, scoreRange(1 - SCORE_STEP))
  .max(1 - SCORE_STEP, scoreRange(1 - SCORE_STEP));

/** A band's upper bound: above 0, up to 1. */
const bandBound = z.number().min(SCORE_STEP, scoreRange(1)).max(1, scoreRange(1));

/** A severity band: scores below `below` (normalised, 0..1) get this name; the last band has no upper bound. */
export const severityBandSchema = z.object({ name: z.string().min(1).max(100), below: bandBound.optional() });

export type SeverityBand = z.infer<typeof severityBandSchema>;

/**
 * The bands a model and a project start with, on the calibrated scale; they move with the decision threshold (bounds
 * below 0.5 scale towards it, bounds above it towards 1), so Overloway and Faulty are exactly the flagged scores.
 * Normal: like the calibration's normal images; Potential: above them, below the limit; Overloway: over the limit, a
 * defect likely; Faulty: far over it.
 */
export const DEFAULT_SEVERITY_BANDS: SeverityBand[] = [
  { name: 'Normal', below: CALIBRATED_NORMAL_CEILING },
  { name: 'Potential', below: CALIBRATED_THRESHOLD },
  { name: 'Overloway', below: 0.8 },
  { name: 'Faulty' },
];

/** The bands' rules: every band but the last has a bound, the last has none, and the bounds increase. */
export function severityBandIssues(bands: readonly SeverityBand[]): { index: number; message: string }[] {
  const issues: { index: number; message: string }[] = [];
  bands.forEach((b, i) => {
    const last = i === bands.length - 1;
    if (last && b.below !== undefined) issues.push({ index: i, message: 'the last band has no upper bound' });
    if (!last && b.below === undefined) issues.push({ index: i, message: 'every band but the last needs "below"' });
    if (i > 0 && !last && b.below! <= bands[i - 1].below!) issues.push({ index: i, message: 'bands must increase' });
  });
  return issues;
}

export const detectionSettingsSchema = z
  .object({
    severityBands: z.array(severityBandSchema).min(1).default(DEFAULT_SEVERITY_BANDS),
    /**
     * Normalised distance from the threshold at which confidence becomes Medium, then High; at most the distance from
     * the calibrated threshold to either end of the scale.
     */
    confidence: z
      .object({ medium: z.number().gt(0).lt(CALIBRATED_THRESHOLD), high: z.number().gt(0).lte(CALIBRATED_THRESHOLD) })
      .default({ medium: 0.1, high: 0.25 }),
    regions: z
      .object({
        /** Regions smaller than this share of the image are ignored (noise). */
        minAreaFraction: z.number().min(0).lt(1).default(0.001),
        /** A region whose peak normalised pixel score reaches this (on the calibrated scale, moved with the threshold as the bands are) is Critical, else Warning. */
        criticalAt: z.number().gt(0).lte(1).default(0.8),
        /** At most this many boxes, strongest first. */
        maxRegions: z.number().int().positive().default(20),
      })
      .default({ minAreaFraction: 0.001, criticalAt: 0.8, maxRegions: 20 }),
    /** Longest side of the anomaly map and the visualizations (the image is never enlarged). */
    maxMapSide: z.number().int().min(32).max(8192).default(1024),
  })
  .superRefine((s, ctx) => {
    for (const { index, message } of severityBandIssues(s.severityBands))
      ctx.addIssue({ code: 'custom', path: ['severityBands', index], message });
    if (s.confidence.high <= s.confidence.medium)
      ctx.addIssue({ code: 'custom', path: ['confidence'], message: 'high must exceed medium' });
  });

export type DetectionSettings = z.infer<typeof detectionSettingsSchema>;

export const defaultDetectionSettings = (): DetectionSettings => detectionSettingsSchema.parse({});

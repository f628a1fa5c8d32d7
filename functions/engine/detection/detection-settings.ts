import { z } from 'zod';

/**
 * The finest step a score setting (a decision threshold, a band's bound) takes on the normalised 0..1 scale: finer
 * means nothing for a score, and it keeps every setting inside what DynamoDB stores (no magnitude under 1e-130, 38
 * digits; a JS number has at most 17).
 */
export const SCORE_STEP = 0.000001;
const scoreRange = (max: string) => `a normalised score from 0.000001 to ${max}`;

/** A decision threshold: strictly inside 0..1, in steps no finer than SCORE_STEP at either end. */
export const thresholdValue = z.number().min(SCORE_STEP, scoreRange('0.999999')).max(1 - SCORE_STEP, scoreRange('0.999999'));

/** A band's upper bound: above 0, up to 1. */
export const bandBound = z.number().min(SCORE_STEP, scoreRange('1')).max(1, scoreRange('1'));

/** A severity band: scores below `below` (normalised, 0..1) get this name; the last band has no upper bound. */
export const severityBandSchema = z.object({ name: z.string().min(1).max(100), below: bandBound.optional() });

export const detectionSettingsSchema = z
  .object({
    severityBands: z
      .array(severityBandSchema)
      .min(1)
      .default([
        { name: 'Normal', below: 0.3 },
        { name: 'Potential', below: 0.5 },
        { name: 'Overloway', below: 0.8 },
        { name: 'Faulty' },
      ]),
    /** Normalised distance from the threshold (0.5) at which confidence becomes Medium, then High. */
    confidence: z.object({ medium: z.number().gt(0).lt(0.5), high: z.number().gt(0).lte(0.5) }).default({ medium: 0.1, high: 0.25 }),
    regions: z
      .object({
        /** Regions smaller than this share of the image are ignored (noise). */
        minAreaFraction: z.number().min(0).lt(1).default(0.001),
        /** A region whose peak normalised pixel score reaches this is Critical, else Warning. */
        criticalAt: z.number().gt(0).lte(1).default(0.8),
        /** At most this many boxes, strongest first. */
        maxRegions: z.number().int().positive().default(20),
      })
      .default({ minAreaFraction: 0.001, criticalAt: 0.8, maxRegions: 20 }),
    /** Longest side of the anomaly map and the visualisations (the image is never enlarged). */
    maxMapSide: z.number().int().min(32).max(8192).default(1024),
  })
  .superRefine((s, ctx) => {
    const bands = s.severityBands;
    bands.forEach((b, i) => {
      const last = i === bands.length - 1;
      if (last && b.below !== undefined) ctx.addIssue({ code: 'custom', path: ['severityBands', i], message: 'the last band has no upper bound' });
      if (!last && b.below === undefined) ctx.addIssue({ code: 'custom', path: ['severityBands', i], message: 'every band but the last needs "below"' });
      if (i > 0 && !last && b.below! <= bands[i - 1].below!) ctx.addIssue({ code: 'custom', path: ['severityBands', i], message: 'bands must increase' });
    });
    if (s.confidence.high <= s.confidence.medium) ctx.addIssue({ code: 'custom', path: ['confidence'], message: 'high must exceed medium' });
  });

export type DetectionSettings = z.infer<typeof detectionSettingsSchema>;
export type SeverityBand = z.infer<typeof severityBandSchema>;

export const defaultDetectionSettings = (): DetectionSettings => detectionSettingsSchema.parse({});

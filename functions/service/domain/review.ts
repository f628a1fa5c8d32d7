import { z } from 'zod';

export const REVIEW_VERDICTS = ['normal', 'defect', 'unsure'] as const;
export const reviewVerdictSchema = z
  .enum(REVIEW_VERDICTS)
  .meta({ description: 'normal: a false alarm if it was flagged; defect: a real defect; unsure: cannot tell' });
export type ReviewVerdict = z.infer<typeof reviewVerdictSchema>;

/** What a person sends to review a stored result. */
export const reviewRequestSchema = z
  .strictObject({
    verdict: reviewVerdictSchema,
    defectType: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'Only with verdict defect, e.g. "crack"' }),
    note: z.string().max(2000).optional(),
    expectedRevision: z.number().int().nonnegative().optional().meta({
      description:
        'The review revision the reviewer saw (0: none yet); when given, a review made meanwhile by someone else answers 409 instead of being replaced',
    }),
  })
  .refine((r) => r.verdict === 'defect' || r.defectType === undefined, {
    message: 'defectType is only allowed with verdict defect',
    path: ['defectType'],
  })
  .meta({ id: 'ReviewRequest' });
export type ReviewRequest = z.infer<typeof reviewRequestSchema>;

/** A person's verdict on a stored result; a new review replaces it and raises the revision. */
export const reviewSchema = z
  .object({
    verdict: reviewVerdictSchema,
    defectType: z.string().nullable(),
    note: z.string().nullable(),
    reviewedBy: z.string().meta({ description: "The reviewer's principal: user:SUB, key:ID or local" }),
    reviewedAt: z.iso.datetime(),
    revision: z.number().int().positive().meta({ description: 'Times the result has been reviewed' }),
  })
  .meta({ id: 'Review' });
export type Review = z.infer<typeof reviewSchema>;

/** Which results a listing keeps by their review: none yet, any review, or one verdict. */
export const REVIEW_STATES = ['unreviewed', 'reviewed', ...REVIEW_VERDICTS] as const;
export const reviewStateSchema = z.enum(REVIEW_STATES);
export type ReviewState = z.infer<typeof reviewStateSchema>;

/** Precision and recall of the flags against the reviews, for one model version in one period. */
export const reviewMetricsRowSchema = z
  .object({
    period: z.string().meta({ description: 'Start of the period (UTC), e.g. 2026-12-01 or 2026-12-01T13' }),
    modelVersion: z.string(),
    reviewed: z.number().int().meta({ description: 'Results reviewed normal or defect (unsure ones are left out)' }),
    truePositives: z.number().int(),
    falsePositives: z.number().int(),
    falseNegatives: z.number().int(),
    trueNegatives: z.number().int(),
    precision: z.number().nullable().meta({ description: 'Flagged and confirmed / flagged; null when none flagged' }),
    recall: z.number().nullable().meta({ description: 'Flagged and confirmed / confirmed; null when none confirmed' }),
  })
  .meta({ id: 'ReviewMetricsRow' });
export type ReviewMetricsRow = z.infer<typeof reviewMetricsRowSchema>;

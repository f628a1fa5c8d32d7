import { z } from 'zod';
import { APPLIED_NORMALISATIONS } from '../../engine/features/input-statistics.ts';
import { CALIBRATION_SOURCES, MODEL_QUALITY_VERDICTS } from '../../engine/training/model-quality.ts';

export const modelQualitySummarySchema = z
  .object({
    verdict: z.enum(MODEL_QUALITY_VERDICTS),
    reason: z.string(),
    calibration: z.enum(CALIBRATION_SOURCES),
  })
  .meta({
    id: 'ModelQuality',
    description: 'ok; few_images: trained on few images; uncalibrated: the threshold rests on too few normal images',
  });

export const modelVersionSchema = z
  .object({
    projectId: z.string(),
    version: z.number().int().positive(),
    label: z.string().meta({ example: 'v3' }),
    type: z.literal('PatchCore'),
    backbone: z.string(),
    layers: z.array(z.string()),
    preprocessing: z.object({
      resize: z.string(),
      resizeTo: z.number(),
      size: z.number(),
      normalise: z.enum(APPLIED_NORMALISATIONS).optional().meta({
        description:
          "The input's normalisation: backbone (ImageNet's statistics), images (the training images'), each-image (every image's own); absent on versions stored before it was kept",
      }),
    }),
    bankRows: z.number().int(),
    trainImages: z.number().int(),
    calibrationImages: z.number().int(),
    /** Absent on versions stored before the verdict; the models service judges those from their counts. */
    quality: modelQualitySummarySchema.optional(),
    thresholds: z.object({ method: z.string(), image: z.number(), pixel: z.number() }),
    scoreHistogram: z
      .object({ normals: z.array(z.number().int()), defects: z.array(z.number().int()) })
      .optional()
      .meta({
        description:
          'Where the calibration images fall on the normalised scale (threshold at 0.5): counts in equal bins over 0..1, normal images and labelled defective ones; absent for models trained before it was kept',
      }),
    metrics: z
      .object({
        imageAuroc: z.number().optional(),
        pixelAuroc: z.number().optional(),
        f1: z.number().optional(),
        heldOutFalsePositiveRate: z.number().optional(),
        precision: z.number().optional(),
        recall: z.number().optional(),
        maskIou: z.number().optional().meta({
          description: 'Mean intersection over union of the predicted (at the pixel threshold) and labelled masks',
        }),
        evaluation: z
          .object({
            images: z.number().int(),
            good: z.number().int(),
            anomalous: z.number().int(),
            withMask: z.number().int(),
          })
          .optional()
          .meta({ description: 'The labelled evaluation set the figures were measured on, when the project has one' }),
      })
      .meta({
        description:
          'On the project evaluation set (an imported dataset) when it has one: image AUROC, F1, precision and recall at the calibrated threshold, pixel AUROC and mask IoU; otherwise what calibration measured',
      }),
    trainingMs: z.number(),
    derivedFrom: z
      .object({
        version: z.number().int().positive(),
        by: z.enum(['update-bank', 'recalibrate']),
        images: z.number().int().nonnegative().meta({ description: 'Reviewed images used' }),
      })
      .optional()
      .meta({ description: 'For a version made from reviews: the version it started from, and how' }),
    jobId: z.string(),
    artifactPrefix: z.string(),
    createdAt: z.iso.datetime(),
    active: z.boolean(),
  })
  .meta({ id: 'ModelVersion' });

export type ModelVersion = z.infer<typeof modelVersionSchema>;

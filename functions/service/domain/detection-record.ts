import { z } from 'zod';
import { reviewSchema } from './review.ts';
import { MODEL_QUALITY_VERDICTS } from '../../engine/training/model-quality.ts';

const rect = z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int(), height: z.number().int() });

export const boundingBoxSchema = rect
  .extend({
    confidence: z.number().meta({ description: 'Peak normalised pixel score of the region' }),
    type: z.enum(['Critical', 'Warning']),
    defect_type: z.string().nullable().optional().meta({
      description: 'The linked classifier’s label for the region’s crop (absent without a linked classifier)',
    }),
    defect_type_confidence: z.number().optional(),
  })
  .meta({
    id: 'BoundingBox',
    description: 'A connected anomalous region, in pixels of the image as displayed (EXIF orientation applied)',
  });

export const evidenceSchema = z
  .object({
    patch: rect,
    distance: z.number(),
    nearest_normal: z.object({
      image: z.string(),
      patch: rect,
      url: z.string().optional().meta({ description: 'Presigned URL of that training image (in answers, not stored)' }),
    }),
  })
  .meta({
    id: 'Evidence',
    description: 'For the strongest region: the most similar normal patch in the training images',
  });

export const visualizationUrlsSchema = z
  .object({
    mask_url: z.string(),
    overlay_url: z.string(),
    filtered_url: z.string(),
    bounded_url: z.string(),
    heatmap_url: z.string(),
  })
  .meta({ id: 'Visualizations', description: 'Presigned PNG URLs, valid for a limited time' });

/** The engine's per-image answer, with the field names existing clients read. */
export const detectionFieldsSchema = z.object({
  anomaly_score: z.number().meta({ description: 'Normalised 0..1; the calibrated threshold is 0.5' }),
  classification: z.string().meta({ description: "The project's severity band", example: 'Faulty' }),
  confidence: z.enum(['Low', 'Medium', 'High']),
  is_anomalous: z.boolean(),
  threshold: z.number(),
  damage_percentage: z.number(),
  bounding_boxes: z.array(boundingBoxSchema),
  evidence: evidenceSchema.nullable(),
  raw_score: z.number(),
  image: z.object({ width: z.number().int(), height: z.number().int(), format: z.string() }),
  processing_time: z.number().meta({ description: 'Seconds' }),
  timings_ms: z
    .object({
      decode: z.number(),
      preprocess: z.number(),
      backbone: z.number(),
      search: z.number(),
      postprocess: z.number(),
      encode: z.number(),
    })
    .meta({ description: 'Milliseconds per stage' }),
  model_version: z.string(),
  defect_type_model: z
    .string()
    .optional()
    .meta({ description: 'The classifier that named the defect types: its project and version' }),
  model_quality: z
    .object({ verdict: z.enum(MODEL_QUALITY_VERDICTS), reason: z.string() })
    .optional()
    .meta({
      description: "The model's quality verdict (ok, few_images, uncalibrated); absent on results stored before it",
    }),
});

export const detectionResponseSchema = detectionFieldsSchema
  .extend({
    result_id: z.string(),
    visualizations: visualizationUrlsSchema.nullable(),
  })
  .meta({ id: 'Detection' });

export const VISUALIZATION_FIELDS = {
  mask: 'mask_url',
  overlay: 'overlay_url',
  filtered: 'filtered_url',
  bounded: 'bounded_url',
  heatmap: 'heatmap_url',
} as const;

/** A stored detection: from the API, the drop folder or a batch. */
export const detectionRecordSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    batchId: z
      .string()
      .meta({ description: "'api' for synchronous detections; the inbox sub-folder for drop-folder images" }),
    source: z.object({ kind: z.enum(['api', 'inbox']), name: z.string(), key: z.string().nullable() }),
    createdAt: z.iso.datetime(),
    result: detectionFieldsSchema,
    /** Object keys of the PNGs (URLs are presigned when read). */
    visualizationKeys: z.record(z.string(), z.string()).nullable(),
    resultKey: z.string().nullable().meta({ description: 'Object key of the JSON result (drop folder)' }),
    review: reviewSchema.optional().meta({ description: "A person's verdict, when reviewed" }),
  })
  .meta({ id: 'DetectionRecord' });

export type DetectionRecord = z.infer<typeof detectionRecordSchema>;
export type DetectionFields = z.infer<typeof detectionFieldsSchema>;

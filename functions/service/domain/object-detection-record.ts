import { z } from 'zod';

export const detectedObjectSchema = z
  .object({
    label: z.string(),
    class_index: z.number().int(),
    confidence: z.number(),
    x: z.number().meta({ description: 'Left edge, in the original image’s pixels' }),
    y: z.number().meta({ description: 'Top edge, in the original image’s pixels' }),
    width: z.number(),
    height: z.number(),
  })
  .meta({ id: 'DetectedObject' });

/** A YOLO detector's answer for one image. */
export const objectDetectionFieldsSchema = z.object({
  objects: z.array(detectedObjectSchema).meta({ description: 'After class-aware NMS, highest confidence first' }),
  object_count: z.number().int(),
  thresholds: z.object({ confidence: z.number(), iou: z.number() }),
  model_version: z.string(),
  model_type: z.literal('onnx'),
  image: z.object({ width: z.number().int(), height: z.number().int() }),
  processing_time: z.number().meta({ description: 'Seconds' }),
  timings_ms: z.object({ preprocess: z.number(), inference: z.number(), postprocess: z.number() }),
});

export const objectDetectionRecordSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    batchId: z.string().meta({ description: "'api' for synchronous detections; the inbox sub-folder otherwise" }),
    source: z.object({ kind: z.enum(['api', 'inbox']), name: z.string(), key: z.string().nullable() }),
    createdAt: z.iso.datetime(),
    result: objectDetectionFieldsSchema,
    renderingKey: z.string().meta({ description: 'Object key of the PNG with the boxes drawn' }),
    resultKey: z.string().nullable().meta({ description: 'Object key of the JSON result (drop folder)' }),
  })
  .meta({ id: 'ObjectDetectionRecord' });

export type ObjectDetectionRecord = z.infer<typeof objectDetectionRecordSchema>;
export type ObjectDetectionFields = z.infer<typeof objectDetectionFieldsSchema>;

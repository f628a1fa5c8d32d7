import { z } from 'zod';

export const headResultSchema = z
  .object({
    label: z
      .string()
      .nullable()
      .meta({ description: 'softmax: the class; sigmoid: the most probable over the threshold' }),
    labels: z.array(z.string()).meta({ description: 'Every class over the threshold (sigmoid) or the one label' }),
    confidence: z.number().meta({ description: 'Probability of the label (sigmoid without a label: the highest)' }),
    scores: z.record(z.string(), z.number()).meta({ description: 'Every class’s probability' }),
    activation: z.enum(['softmax', 'sigmoid']),
    threshold: z.number().optional(),
  })
  .meta({ id: 'HeadResult' });

/** A classifier's answer for one image. */
export const classificationFieldsSchema = z.object({
  heads: z
    .record(z.string(), headResultSchema)
    .meta({ description: 'By head name, as the model version’s spec names them' }),
  model_version: z.string(),
  model_type: z.literal('onnx'),
  image: z.object({ width: z.number().int(), height: z.number().int(), format: z.string() }),
  processing_time: z.number().meta({ description: 'Seconds' }),
  timings_ms: z.object({ preprocess: z.number(), inference: z.number(), postprocess: z.number() }),
});

export const classificationRecordSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    batchId: z.string().meta({ description: "'api' for synchronous classifications; the inbox sub-folder otherwise" }),
    source: z.object({ kind: z.enum(['api', 'inbox']), name: z.string(), key: z.string().nullable() }),
    createdAt: z.iso.datetime(),
    result: classificationFieldsSchema,
    resultKey: z.string().nullable().meta({ description: 'Object key of the JSON result (drop folder)' }),
  })
  .meta({ id: 'ClassificationRecord' });

export type ClassificationRecord = z.infer<typeof classificationRecordSchema>;
export type ClassificationFields = z.infer<typeof classificationFieldsSchema>;

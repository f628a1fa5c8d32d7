import { z } from 'zod';

/**
 * How to feed an image classifier exported to ONNX and how to read its answer: the spec uploaded beside the model.
 * The names of heads are the field names the compatibility route answers with (e.g. skin_type), so they are
 * identifiers.
 */

/** A head's name: lower-case identifier, as it becomes a JSON field of the compatibility answer. */
export const headNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'a lower-case identifier (letters, digits, underscore; at most 64)')
  .refine((name) => !RESERVED_HEAD_NAMES.includes(name), {
    message: 'a name the answer already uses for another field',
  });

/** The answer's own fields, which a head may not be named after. */
export const RESERVED_HEAD_NAMES: readonly string[] = [
  'confidence_scores',
  'all_scores',
  'model_version',
  'model_type',
  'processing_time',
  'result_id',
  'heads',
  'image',
  'timings_ms',
];

const className = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}]+$/u, 'no control characters');

export const classifierInputSchema = z
  .object({
    name: z.string().min(1).max(200).meta({ description: 'The ONNX input to feed' }),
    width: z.number().int().min(8).max(4096),
    height: z.number().int().min(8).max(4096),
    layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
    channelOrder: z.enum(['RGB', 'BGR']).default('RGB'),
    resize: z.enum(['stretch', 'crop', 'letterbox']).default('stretch').meta({
      description:
        'stretch: to width x height ignoring the aspect; crop: cover and cut the centre; letterbox: fit inside, padded with black',
    }),
    normalise: z
      .object({
        scale: z
          .number()
          .positive()
          .default(1 / 255)
          .meta({ description: 'Each 0..255 value is multiplied by this first' }),
        mean: z.tuple([z.number(), z.number(), z.number()]).default([0, 0, 0]),
        std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([1, 1, 1]),
      })
      .strict()
      .default({ scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] })
      .meta({ description: '(value * scale - mean) / std per channel, in the channel order given' }),
  })
  .strict();

export const classifierHeadSchema = z
  .object({
    name: headNameSchema,
    output: z.string().min(1).max(200).meta({ description: 'The ONNX output holding this head' }),
    slice: z
      .object({ start: z.number().int().min(0), end: z.number().int().min(1) })
      .strict()
      .optional()
      .meta({ description: 'Columns [start, end) of the output, when several heads share one logits tensor' }),
    classes: z.array(className).min(1).max(10_000),
    activation: z
      .enum(['softmax', 'sigmoid'])
      .meta({ description: 'softmax: one label per image; sigmoid: every class over the threshold' }),
    scores: z
      .enum(['logits', 'probabilities'])
      .default('logits')
      .meta({ description: 'What the model outputs: logits (the activation is applied here) or probabilities' }),
    threshold: z.number().gt(0).lt(1).optional().meta({ description: 'sigmoid heads: the label threshold (0.5)' }),
  })
  .strict()
  .superRefine((head, ctx) => {
    if (head.slice && head.slice.end - head.slice.start !== head.classes.length)
      ctx.addIssue({
        code: 'custom',
        path: ['slice'],
        message: `slice [${head.slice.start}, ${head.slice.end}) holds ${head.slice.end - head.slice.start} columns but the head has ${head.classes.length} classes`,
      });
    if (head.activation === 'softmax' && head.threshold !== undefined)
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'a softmax head picks one label; no threshold' });
    if (new Set(head.classes).size !== head.classes.length)
      ctx.addIssue({ code: 'custom', path: ['classes'], message: 'class names repeat' });
  });

export const classifierSpecSchema = z
  .object({
    input: classifierInputSchema,
    heads: z.array(classifierHeadSchema).min(1).max(32),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const names = new Set<string>();
    spec.heads.forEach((head, i) => {
      if (names.has(head.name))
        ctx.addIssue({ code: 'custom', path: ['heads', i, 'name'], message: `head ${head.name} is named twice` });
      names.add(head.name);
    });
    // Heads on one output: all sliced, without overlap (a whole output read by two heads is a spec mistake).
    const byOutput = new Map<string, { i: number; head: (typeof spec.heads)[number] }[]>();
    spec.heads.forEach((head, i) => byOutput.set(head.output, [...(byOutput.get(head.output) ?? []), { i, head }]));
    for (const [output, heads] of byOutput) {
      if (heads.length < 2) continue;
      const unsliced = heads.find((h) => !h.head.slice);
      if (unsliced) {
        ctx.addIssue({
          code: 'custom',
          path: ['heads', unsliced.i, 'slice'],
          message: `output ${output} is shared by ${heads.length} heads: each needs a slice`,
        });
        continue;
      }
      const sorted = [...heads].sort((a, b) => a.head.slice!.start - b.head.slice!.start);
      for (let k = 1; k < sorted.length; k++)
        if (sorted[k].head.slice!.start < sorted[k - 1].head.slice!.end)
          ctx.addIssue({
            code: 'custom',
            path: ['heads', sorted[k].i, 'slice'],
            message: `head ${sorted[k].head.name} overlaps head ${sorted[k - 1].head.name} on output ${output}`,
          });
    }
  })
  .meta({ id: 'ClassifierSpec', description: 'How to feed an ONNX image classifier and read its heads' });

export type ClassifierSpec = z.infer<typeof classifierSpecSchema>;
export type ClassifierSpecInput = z.input<typeof classifierSpecSchema>;
export type ClassifierHead = ClassifierSpec['heads'][number];

/** The threshold a sigmoid head labels at when its spec names none. */
export const DEFAULT_SIGMOID_THRESHOLD = 0.5;

/** How many values a head reads from its output. */
export const headWidth = (head: ClassifierHead): number => head.classes.length;

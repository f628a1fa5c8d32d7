import { z } from 'zod';
import { UploadedModelError } from '../errors.ts';

/**
 * The spec of an uploaded YOLO object detector (ONNX): what the model takes, how to read what it gives, and the
 * class names. Owned here so the service (upload validation, stored model versions) and the CLI parse it alike.
 */

/**
 * Output layouts of YOLO exports. v5: [1, N, 5 + C], each row cx, cy, w, h, objectness, C class scores (score =
 * objectness x class score). v8 (also v9/v11): [1, 4 + C, N], each column cx, cy, w, h, C class scores, no objectness.
 */
export const YOLO_LAYOUTS = ['v5', 'v8'] as const;
export type YoloLayout = (typeof YOLO_LAYOUTS)[number];

export const DEFAULT_CONFIDENCE_THRESHOLD = 0.25;
export const DEFAULT_IOU_THRESHOLD = 0.45;
export const DEFAULT_MAX_DETECTIONS = 300;
/** The grey Ultralytics pads letterboxed images with. */
export const DEFAULT_PAD_VALUE = 114;

const side = z.number().int().min(32).max(4096);

export const objectDetectorSpecSchema = z
  .object({
    input: z
      .object({
        name: z.string().min(1).max(200),
        width: side,
        height: side,
        channelOrder: z.enum(['rgb', 'bgr']).default('rgb'),
        /** '0-1': pixels divided by 255 (Ultralytics exports); '0-255': raw byte values as floats. */
        range: z.enum(['0-1', '0-255']).default('0-1'),
        padValue: z.number().int().min(0).max(255).default(DEFAULT_PAD_VALUE),
      })
      .strict(),
    output: z
      .object({
        /** Default: the model's first output. */
        name: z.string().min(1).max(200).optional(),
        /** 'auto': read from the output shape and the class count; name one when the shape is ambiguous. */
        layout: z.enum(['auto', ...YOLO_LAYOUTS]).default('auto'),
        /** Box coordinates in the model's input pixels (Ultralytics) or as fractions of the input size. */
        boxes: z.enum(['pixels', 'normalised']).default('pixels'),
      })
      .strict()
      .prefault({}),
    classes: z
      .array(z.string().trim().min(1).max(100))
      .min(1)
      .max(1000)
      .refine((names) => new Set(names).size === names.length, { message: 'class names must be unique' }),
    thresholds: z
      .object({
        confidence: z.number().gt(0).lt(1).default(DEFAULT_CONFIDENCE_THRESHOLD),
        iou: z.number().gt(0).max(1).default(DEFAULT_IOU_THRESHOLD),
      })
      .strict()
      .prefault({}),
    maxDetections: z.number().int().min(1).max(1000).default(DEFAULT_MAX_DETECTIONS),
  })
  .strict();

/** The spec as written (defaults optional). */
export type ObjectDetectorSpecInput = z.input<typeof objectDetectorSpecSchema>;
/** The spec with every default filled in. */
export type ObjectDetectorSpec = z.output<typeof objectDetectorSpecSchema>;

/** Parses a spec (e.g. JSON.parse of an uploaded file); every problem is named with its path. */
export function parseObjectDetectorSpec(value: unknown): ObjectDetectorSpec {
  const parsed = objectDetectorSpecSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(spec)'}: ${i.message}`);
  throw new UploadedModelError('MODEL_SPEC_INVALID', `the object detector spec is invalid: ${problems.join('; ')}`, {
    problems,
  });
}

import { z } from 'zod';
import { classifierSpecSchema } from '../../engine/classification/classifier-spec.ts';
import { objectDetectorSpecSchema } from '../../engine/object-detection/detector-spec.ts';

/**
 * A model version that is an ONNX file the user brought (or that `classify train` exported), with the spec that says
 * how to feed it and read it. What the spec holds depends on the project's kind: the version is a discriminated union
 * on `kind`, and a kind that serves uploaded models (object detection next) adds its member here.
 */

const tensorSchema = z.object({
  name: z.string(),
  elemType: z.number().int(),
  dims: z.array(z.union([z.number().int(), z.string()])),
});

export const onnxFileSchema = z
  .object({
    bytes: z.number().int(),
    sha256: z.string(),
    opset: z.number().int(),
    irVersion: z.number().int(),
    producer: z.string(),
    inputs: z.array(tensorSchema),
    outputs: z.array(tensorSchema),
  })
  .meta({ id: 'OnnxFile', description: 'What the upload check read from the ONNX file' });

/** Cross-validated figures of a classifier trained by Faultline (absent for uploaded ones). */
export const classifierEvaluationSchema = z
  .object({
    folds: z.number().int(),
    images: z.number().int(),
    accuracy: z.number(),
    macro_f1: z.number(),
    classes: z.array(z.string()),
    confusion_matrix: z.array(z.array(z.number().int())).meta({ description: 'Rows: true class; columns: predicted' }),
    per_class: z.record(
      z.string(),
      z.object({ precision: z.number(), recall: z.number(), f1: z.number(), support: z.number().int() }),
    ),
    temperature: z.number().meta({ description: 'Calibration temperature fitted on the out-of-fold scores' }),
  })
  .meta({ id: 'ClassifierEvaluation' });

const versionFields = {
  projectId: z.string(),
  version: z.number().int().positive(),
  label: z.string().meta({ example: 'v3' }),
  type: z.literal('onnx'),
  source: z.enum(['upload', 'training']),
  file: onnxFileSchema,
  jobId: z.string().nullable(),
  artifactPrefix: z.string(),
  createdAt: z.iso.datetime(),
  active: z.boolean(),
};

export const classificationModelVersionSchema = z.object({
  ...versionFields,
  kind: z.literal('classification'),
  spec: classifierSpecSchema,
  evaluation: classifierEvaluationSchema.nullable(),
});

export const objectDetectionModelVersionSchema = z.object({
  ...versionFields,
  kind: z.literal('object-detection'),
  spec: objectDetectorSpecSchema.meta({ id: 'ObjectDetectorSpec' }),
  evaluation: z.null().meta({ description: 'Always null: object detectors are uploaded, never trained here' }),
});

export const uploadedModelVersionSchema = z
  .discriminatedUnion('kind', [classificationModelVersionSchema, objectDetectionModelVersionSchema])
  .meta({ id: 'UploadedModelVersion', description: 'An ONNX model version with its spec, by project kind' });

export type UploadedModelVersion = z.infer<typeof uploadedModelVersionSchema>;
export type UploadedModelKind = UploadedModelVersion['kind'];
/** A version as stored (which one is active is the project's `activeModelVersion`). */
export type StoredUploadedModel = UploadedModelVersion extends infer V
  ? V extends unknown
    ? Omit<V, 'active'>
    : never
  : never;

/** The spec each kind's upload takes, keyed by kind (the upload route parses the spec file with its project's). */
export const UPLOADED_MODEL_SPECS = {
  classification: classifierSpecSchema,
  'object-detection': objectDetectorSpecSchema,
} satisfies Record<UploadedModelKind, z.ZodType>;

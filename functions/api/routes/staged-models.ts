import { z } from 'zod';
import { uploadedModelVersionSchema } from '../../service/domain/uploaded-model.ts';
import {
  presignModelUpload,
  registerStagedModel,
  STAGED_MODEL_CONTENT_TYPE,
} from '../../service/uploaded-models/staged-model-upload.ts';
import { defineRoute } from '../http/route.ts';
import { projectParams } from './common.ts';

const tags = ['Models'];

/** Large ONNX models: a presigned upload to a staging key, then registration (checked by running it once). */
export const stagedModelRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/models/upload-url',
    operationId: 'presignModelUpload',
    summary: 'A presigned POST for a large ONNX model (past the request body limit), to a staging key',
    description: `POST the form fields and then the file (field "file", Content-Type ${STAGED_MODEL_CONTENT_TYPE}) to the URL: S3 takes at most the declared size (itself at most FAULTLINE_MAX_MODEL_BYTES) until the URL expires. Then POST /api/v1/projects/{projectId}/models/register with the key and the spec.`,
    tags,
    params: projectParams,
    body: {
      json: z
        .object({ size: z.number().int().positive().meta({ description: 'The model file’s size in bytes' }) })
        .strict()
        .meta({ id: 'ModelUploadUrlRequest' }),
    },
    success: {
      status: 200,
      description: 'Where and how to upload',
      schema: z
        .object({
          key: z.string(),
          url: z.string(),
          fields: z.record(z.string(), z.string()),
          expiresIn: z.number().int(),
          maxBytes: z.number().int(),
        })
        .meta({ id: 'ModelUploadUrl' }),
    },
    errors: [404, 409, 413],
    handle: async ({ params, body }, s) => ({
      status: 200,
      body: await presignModelUpload(s, params.projectId, body.size),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/models/register',
    operationId: 'registerStagedModel',
    summary: 'Check a model uploaded to a staging key against its spec and store it as the next, active version',
    description:
      'The key must be one that .../models/upload-url gave this project. The spec is validated for the project’s kind and the model run once against it (415 not ONNX, 422 shapes that differ, 413 too large), as a direct upload is. The staged object is deleted whether the model is kept or refused.',
    tags,
    params: projectParams,
    body: {
      json: z
        .object({
          key: z.string().min(1).max(1024),
          spec: z.record(z.string(), z.unknown()).meta({ description: 'The spec, as the upload’s spec file holds it' }),
        })
        .strict()
        .meta({ id: 'RegisterStagedModel' }),
    },
    success: { status: 201, description: 'The new, active model version', schema: uploadedModelVersionSchema },
    errors: [400, 404, 409, 413, 415, 422],
    handle: async ({ params, body }, s) => ({
      status: 201,
      body: await registerStagedModel(s, params.projectId, body.key, body.spec),
    }),
  }),
];

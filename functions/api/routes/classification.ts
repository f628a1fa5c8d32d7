import { z } from 'zod';
import { classificationRecordSchema, classificationFieldsSchema } from '../../service/domain/classification-record.ts';
import { uploadedModelVersionSchema } from '../../service/domain/uploaded-model.ts';
import {
  classifyImage,
  getClassification,
  listClassifications,
} from '../../service/classification/classification-service.ts';
import { linkDefectClassifier } from '../../service/classification/defect-types.ts';
import {
  activateUploadedModel,
  getUploadedModel,
  listUploadedModels,
  uploadModel,
} from '../../service/uploaded-models/uploaded-models-service.ts';
import { defineRoute } from '../http/route.ts';
import { page, pageQuery, perImageResults, projectParams } from './common.ts';

const versionParams = projectParams.extend({
  version: z.coerce.number().int().positive().meta({ description: 'Model version number' }),
});

export const classificationResponseSchema = classificationFieldsSchema
  .extend({ result_id: z.string() })
  .meta({ id: 'Classification' });

const noFields = z.object({});

/** Routes of projects whose models are uploaded ONNX files (classification; the spec decides what a kind reads). */
export const classificationRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/models/upload',
    operationId: 'uploadModel',
    summary: 'Upload an ONNX model with its spec (multipart files "model" and "spec") as the next model version',
    description:
      'The spec (JSON) is validated for the project’s kind, then the model is run once against it: a file that is not ONNX or is TFLite is a 415, a model whose input or head shapes differ from the spec a 422 naming the head and the shapes. The version is stored and made active. At most FAULTLINE_MAX_MODEL_BYTES per file and the API’s body limit (10 MB locally; about 6 MB through API Gateway and Lambda): larger models go through POST .../models/upload-url and .../models/register.',
    tags: ['Models'],
    params: projectParams,
    body: {
      multipart: {
        fields: noFields,
        files: [
          { name: 'model', description: 'The ONNX file', required: true, multiple: false },
          { name: 'spec', description: 'The spec (JSON): input and heads', required: true, multiple: false },
        ],
      },
    },
    maxFileBytes: (config) => config.FAULTLINE_MAX_MODEL_BYTES,
    success: { status: 201, description: 'The new, active model version', schema: uploadedModelVersionSchema },
    errors: [404, 409, 413, 415, 422],
    handle: async ({ params, files }, s) => ({
      status: 201,
      body: await uploadModel(s, params.projectId, files.model[0].content, files.spec[0].content),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/uploaded-models',
    operationId: 'listUploadedModels',
    summary: 'The ONNX model versions of a classification project, newest first',
    tags: ['Models'],
    params: projectParams,
    success: {
      status: 200,
      description: 'Model versions',
      schema: z.object({ items: z.array(uploadedModelVersionSchema) }),
    },
    errors: [404, 409],
    handle: async ({ params }, s) => ({ status: 200, body: { items: await listUploadedModels(s, params.projectId) } }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/uploaded-models/{version}',
    operationId: 'getUploadedModel',
    summary: 'One ONNX model version with its spec (and its cross-validation, when trained here)',
    tags: ['Models'],
    params: versionParams,
    success: { status: 200, description: 'The model version', schema: uploadedModelVersionSchema },
    errors: [404, 409],
    handle: async ({ params }, s) => ({
      status: 200,
      body: await getUploadedModel(s, params.projectId, params.version),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/uploaded-models/{version}/activate',
    operationId: 'activateUploadedModel',
    summary: 'Make this ONNX version the one classifications use',
    tags: ['Models'],
    params: versionParams,
    success: { status: 200, description: 'The activated version', schema: uploadedModelVersionSchema },
    errors: [404, 409],
    handle: async ({ params }, s) => ({
      status: 200,
      body: await activateUploadedModel(s, params.projectId, params.version),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/classify',
    operationId: 'classify',
    summary: 'Classify one image (multipart field "file"): every head’s label(s), confidence and class scores',
    tags: ['Classification'],
    params: projectParams,
    body: {
      multipart: {
        fields: noFields,
        files: [{ name: 'file', description: 'The image', required: true, multiple: false }],
      },
    },
    success: { status: 200, description: 'The classification', schema: classificationResponseSchema },
    errors: [404, 409, 413, 415, 422],
    handle: async ({ params, files }, s) => {
      const record = await classifyImage(s, params.projectId, files.file[0].content, files.file[0].filename);
      return { status: 200, body: { result_id: record.id, ...record.result } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/classify/batch',
    operationId: 'classifyBatch',
    summary: 'Classify several images (multipart fields "files"); an unreadable image gets an error entry',
    tags: ['Classification'],
    params: projectParams,
    body: {
      multipart: {
        fields: noFields,
        files: [{ name: 'files', description: 'The images', required: true, multiple: true }],
      },
    },
    success: {
      status: 200,
      description: 'Per-image results, in the order sent',
      schema: z.object({
        results: z.array(
          z.union([
            classificationResponseSchema.extend({ filename: z.string() }),
            z.object({ filename: z.string(), error: z.object({ code: z.string(), message: z.string() }) }),
          ]),
        ),
        failed_count: z.number().int(),
      }),
    },
    errors: [404, 409, 413, 415],
    handle: async ({ params, files }, s) => {
      return {
        status: 200,
        body: await perImageResults(files.files, async (file) => {
          const record = await classifyImage(s, params.projectId, file.content, file.filename);
          return { result_id: record.id, ...record.result };
        }),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/classifications',
    operationId: 'listClassifications',
    summary: 'Stored classifications (API, drop folder), newest first',
    tags: ['Classification'],
    params: projectParams,
    query: pageQuery,
    success: { status: 200, description: 'A page', schema: page(classificationRecordSchema, 'ClassificationPage') },
    errors: [404, 409],
    handle: async ({ params, query }, s) => ({
      status: 200,
      body: await listClassifications(s, params.projectId, query.limit, query.cursor),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/classifications/{resultId}',
    operationId: 'getClassification',
    summary: 'One stored classification',
    tags: ['Classification'],
    params: projectParams.extend({ resultId: z.string().regex(/^r_\d{17}_[0-9a-f-]{1,36}$/) }),
    success: { status: 200, description: 'The classification', schema: classificationRecordSchema },
    errors: [404, 409],
    handle: async ({ params }, s) => ({
      status: 200,
      body: await getClassification(s, params.projectId, params.resultId),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/defect-classifier',
    operationId: 'linkDefectClassifier',
    summary: 'Name defect types: link an anomaly project to a classification project (null unlinks)',
    description:
      'Each anomalous region of a detection then carries defect_type and defect_type_confidence: the linked project’s active model (its first head) on the region’s crop. A linked classifier without a usable model makes detections fail with 409, never guess.',
    tags: ['Classification'],
    params: projectParams,
    body: { json: z.object({ classifierProjectId: z.uuid().nullable() }).strict() },
    success: {
      status: 200,
      description: 'The link',
      schema: z.object({ projectId: z.string(), defectClassifier: z.string().nullable() }),
    },
    errors: [404, 409],
    handle: async ({ params, body, principal }, s) => ({
      status: 200,
      body: await linkDefectClassifier(s, params.projectId, body.classifierProjectId, principal),
    }),
  }),
];

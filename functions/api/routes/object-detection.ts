import { z } from 'zod';
import {
  objectDetectionFieldsSchema,
  objectDetectionRecordSchema,
} from '../../service/domain/object-detection-record.ts';
import { yoloDatasetRecordSchema } from '../../service/domain/yolo-dataset.ts';
import {
  detectObjects,
  getObjectDetection,
  listObjectDetections,
  presentObjectDetection,
} from '../../service/object-detection/object-detection-service.ts';
import { getYoloDataset, uploadYoloDataset } from '../../service/object-detection/yolo-datasets-service.ts';
import { defineRoute } from '../http/route.ts';
import { page, pageQuery, perImageResults, projectParams } from './common.ts';

/** Optional overrides of the model version's spec thresholds, as form fields. */
const detectObjectsFields = z.object({
  confidence: z.coerce
    .number()
    .gt(0)
    .lt(1)
    .optional()
    .meta({ description: 'Minimum confidence of a box (default: the spec’s thresholds.confidence)' }),
  iou: z.coerce.number().gt(0).max(1).optional().meta({
    description: 'IoU over which NMS suppresses a box of the same class (default: the spec’s thresholds.iou)',
  }),
});

const presented = {
  rendering_url: z.string().meta({ description: 'Presigned URL of the PNG with the boxes drawn (longer side ≤ 1280)' }),
  image_url: z.string().optional().meta({ description: 'Presigned URL of the drop-folder image' }),
};

export const objectDetectionResponseSchema = objectDetectionFieldsSchema
  .extend({ result_id: z.string(), ...presented })
  .meta({ id: 'ObjectDetection' });

const presentedRecordSchema = objectDetectionRecordSchema.extend(presented).meta({ id: 'ObjectDetectionResult' });

const imageFiles = (name: string, multiple: boolean) => ({
  multipart: {
    fields: detectObjectsFields,
    files: [{ name, description: multiple ? 'The images' : 'The image', required: true, multiple }],
  },
});

/** Routes of object-detection projects (models are uploaded with the classification routes' upload route). */
export const objectDetectionRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/detect-objects',
    operationId: 'detectObjects',
    summary: 'Detect objects in one image (multipart field "file"): boxes in the image’s pixels, label, confidence',
    tags: ['Object detection'],
    params: projectParams,
    body: imageFiles('file', false),
    success: { status: 200, description: 'The objects found', schema: objectDetectionResponseSchema },
    errors: [404, 409, 413, 415, 422],
    handle: async ({ params, files, body }, s) => {
      const file = files.file[0];
      const record = await detectObjects(s, params.projectId, file.content, file.filename, body);
      const { rendering_url } = await presentObjectDetection(s, record);
      return { status: 200, body: { result_id: record.id, ...record.result, rendering_url } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/detect-objects/batch',
    operationId: 'detectObjectsBatch',
    summary: 'Detect objects in several images (multipart fields "files"); an unreadable image gets an error entry',
    tags: ['Object detection'],
    params: projectParams,
    body: imageFiles('files', true),
    success: {
      status: 200,
      description: 'Per-image results, in the order sent',
      schema: z.object({
        results: z.array(
          z.union([
            objectDetectionResponseSchema.extend({ filename: z.string() }),
            z.object({ filename: z.string(), error: z.object({ code: z.string(), message: z.string() }) }),
          ]),
        ),
        failed_count: z.number().int(),
      }),
    },
    errors: [404, 409, 413, 415],
    handle: async ({ params, files, body }, s) => {
      return {
        status: 200,
        body: await perImageResults(files.files, async (file) => {
          const record = await detectObjects(s, params.projectId, file.content, file.filename, body);
          const { rendering_url } = await presentObjectDetection(s, record);
          return { result_id: record.id, ...record.result, rendering_url };
        }),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/object-detections',
    operationId: 'listObjectDetections',
    summary: 'Stored object detections (API, drop folder), newest first',
    tags: ['Object detection'],
    params: projectParams,
    query: pageQuery,
    success: { status: 200, description: 'A page', schema: page(presentedRecordSchema, 'ObjectDetectionPage') },
    errors: [404, 409],
    handle: async ({ params, query }, s) => ({
      status: 200,
      body: await listObjectDetections(s, params.projectId, query.limit, query.cursor),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/object-detections/{resultId}',
    operationId: 'getObjectDetection',
    summary: 'One stored object detection',
    tags: ['Object detection'],
    params: projectParams.extend({ resultId: z.string().regex(/^r_\d{17}_[0-9a-f-]{1,36}$/) }),
    success: { status: 200, description: 'The object detection', schema: presentedRecordSchema },
    errors: [404, 409],
    handle: async ({ params }, s) => ({
      status: 200,
      body: await getObjectDetection(s, params.projectId, params.resultId),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/yolo-datasets',
    operationId: 'uploadYoloDataset',
    summary:
      'Upload a YOLO dataset ZIP (multipart file "dataset": train/images, train/labels, optional val/) for its health report',
    description:
      'The ZIP is read through the safe ZIP reader: too large or too many entries is a 413; a path leaving the archive, an absolute path or a zip bomb (compression ratio, or more data than declared) a 422 naming the entry. The report lists images without labels, labels without images, malformed lines, class counts and a box size histogram; class names are the active model’s when there is one, else data.yaml’s. Training YOLO is not available here (POST /train answers 501).',
    tags: ['Object detection'],
    params: projectParams,
    body: {
      multipart: {
        fields: z.object({}),
        files: [{ name: 'dataset', description: 'The ZIP', required: true, multiple: false }],
      },
    },
    maxFileBytes: (config) => config.FAULTLINE_MAX_MODEL_BYTES,
    success: { status: 201, description: 'The stored dataset and its health report', schema: yoloDatasetRecordSchema },
    errors: [404, 409, 413, 422],
    handle: async ({ params, files }, s) => ({
      status: 201,
      body: await uploadYoloDataset(s, params.projectId, files.dataset[0].content, files.dataset[0].filename),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/yolo-datasets/{datasetId}',
    operationId: 'getYoloDataset',
    summary: 'An uploaded YOLO dataset and its health report',
    tags: ['Object detection'],
    params: projectParams.extend({ datasetId: z.uuid() }),
    success: { status: 200, description: 'The dataset and its report', schema: yoloDatasetRecordSchema },
    errors: [404, 409],
    handle: async ({ params }, s) => ({
      status: 200,
      body: await getYoloDataset(s, params.projectId, params.datasetId),
    }),
  }),
];

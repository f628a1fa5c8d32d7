import { z } from 'zod';
import {
  type BatchSummary,
  batchSummary,
  getResult,
  listResults,
  summarise,
} from '../../service/detection/results-service.ts';
import { detectImage } from '../../service/detection/detection-service.ts';
import {
  detectionRecordSchema,
  detectionResponseSchema,
  visualizationUrlsSchema,
} from '../../service/domain/detection-record.ts';
import { reviewStateSchema } from '../../service/domain/review.ts';
import { thresholdValue } from '../../engine/detection/detection-settings.ts';
import { ServiceError } from '../../service/errors.ts';
import type { Services } from '../../service/services.ts';
import type { Principal } from '../../service/auth/principal.ts';
import type { ProjectItem } from '../../service/store/project-repository.ts';
import { authorizeProject } from '../../service/projects/projects-service.ts';
import { defineRoute, type UploadedPart, type MultipartBody } from '../http/route.ts';
import { booleanFlag, page, pageQuery, projectParams } from './common.ts';

/** The form fields of a detection request, as the existing clients send them. */
export const detectFields = z.object({
  return_visualizations: booleanFlag.optional().meta({ description: 'Render and return the five PNGs (default true)' }),
  threshold: z.coerce
    .number()
    .pipe(thresholdValue)
    .optional()
    .meta({ description: 'Decision threshold on the normalised score (default: the project’s)' }),
});

export async function detectPart(
  s: Services,
  projectId: string,
  file: UploadedPart,
  fields: z.infer<typeof detectFields>,
  project?: ProjectItem,
) {
  const record = await detectImage(s, projectId, file.content, file.filename, {
    threshold: fields.threshold,
    visualizations: fields.return_visualizations ?? true,
    project,
    // Only the links this answer returns are signed (no image_url here).
    present: { visualizations: true, evidence: true },
  });
  const { evidence, visualizations } = record.presented!;
  return { result_id: record.id, ...record.result, evidence, visualizations };
}

/** A result id as the service makes them (store/table-definition.ts's resultId). */
export const resultIdParam = z.string().regex(/^r_\d{17}_[0-9a-f-]{1,36}$/);

export const batchSummarySchema = z
  .object({
    batchId: z.string(),
    total_images: z.number().int(),
    faulty_count: z.number().int(),
    normal_count: z.number().int(),
    by_classification: z.record(z.string(), z.number().int()),
    average_score: z.number(),
    average_processing_time: z.number(),
    first_at: z.string().nullable(),
    last_at: z.string().nullable(),
  })
  .meta({ id: 'BatchSummary' });

const resultViewSchema = detectionRecordSchema
  .extend({
    visualizations: visualizationUrlsSchema.nullable(),
    image_url: z.string().optional().meta({
      description:
        'Presigned URL of the image itself: drop-folder results, and flagged API uploads of a project with keepFlaggedImages on',
    }),
  })
  .meta({ id: 'Result' });

/** The body of a detection of one image (field "file"), here and on the compatibility route. */
export const oneImageBody: MultipartBody<typeof detectFields> = {
  multipart: {
    fields: detectFields,
    files: [{ name: 'file', description: 'The image', required: true, multiple: false }],
  },
};

export const detectionRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/detect',
    operationId: 'detect',
    summary: 'Detect anomalies in one image (multipart field "file")',
    tags: ['Detection'],
    params: projectParams,
    body: oneImageBody,
    success: { status: 200, description: 'The detection', schema: detectionResponseSchema },
    errors: [404, 409, 413, 415, 422],
    handle: async ({ params, files, body, project }, s) => ({
      status: 200,
      body: await detectPart(s, params.projectId, files.file[0], body, project),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/results',
    operationId: 'listResults',
    summary: 'Stored detections (API, drop folder), newest first, with filters',
    tags: ['Results'],
    params: projectParams,
    query: pageQuery.extend({
      anomalous: z.enum(['true', 'false']).optional().meta({ description: 'true: anomalous only' }),
      since: z.iso.datetime().optional().meta({ description: 'Only results created after this time' }),
      review: reviewStateSchema.optional().meta({ description: 'By review: unreviewed, reviewed, or one verdict' }),
    }),
    success: {
      status: 200,
      description: 'A page of results, filled even when the filter matches few (a cursor when more may follow)',
      schema: page(resultViewSchema, 'ResultPage'),
    },
    errors: [404],
    handle: async ({ params, query }, s) => ({
      status: 200,
      body: await listResults(
        s,
        params.projectId,
        { anomalousOnly: query.anomalous === 'true', since: query.since, review: query.review },
        query.limit,
        query.cursor,
      ),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/results/{resultId}',
    operationId: 'getResult',
    summary: 'One stored detection',
    tags: ['Results'],
    params: projectParams.extend({ resultId: resultIdParam }),
    success: { status: 200, description: 'The result', schema: resultViewSchema },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: await getResult(s, params.projectId, params.resultId) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/batches/{batchId}',
    operationId: 'batchSummary',
    summary:
      'Summary of a batch: a drop-folder sub-folder (inbox/{projectId}/{batchId}/...), "inbox" for files at its top, "api" for synchronous detections',
    tags: ['Results'],
    params: projectParams.extend({
      batchId: z
        .string()
        .min(1)
        .max(200)
        .regex(/^[^/]+$/),
    }),
    success: { status: 200, description: 'Counts and averages', schema: batchSummarySchema },
    errors: [404],
    handle: async ({ params }, s): Promise<{ status: number; body: BatchSummary }> => ({
      status: 200,
      body: await batchSummary(s, params.projectId, params.batchId),
    }),
  }),
];

export { summarise };

/** The project the compatibility routes act on, if the caller may use it. */
export async function defaultProjectId(s: Services, by: Principal): Promise<string> {
  const id = s.config.FAULTLINE_DEFAULT_PROJECT;
  if (!id)
    throw new ServiceError(
      'NOT_FOUND',
      'no default project: set FAULTLINE_DEFAULT_PROJECT to the project the /api/v1 compatibility routes act on',
    );
  await authorizeProject(s, id, by);
  return id;
}

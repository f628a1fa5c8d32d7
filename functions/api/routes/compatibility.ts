import { z } from 'zod';
import { detectionResponseSchema } from '../../service/domain/detection-record.ts';
import { isCallersFault } from '../../service/errors.ts';
import { modelInfo } from '../../service/models/models-service.ts';
import { defineRoute } from '../http/route.ts';
import { batchSummarySchema, defaultProjectId, detectFields, detectPart, oneImageBody } from './detection.ts';

/** The routes the existing (FlareNet) clients call, acting on the default project (FAULTLINE_DEFAULT_PROJECT). */
const tags = ['Compatibility'];
const compatGroup = 'flarenet' as const;

/** Failures of the project rather than of one image: no other image of the batch can succeed either. */
const ABORTS_BATCH: ReadonlySet<string> = new Set(['NO_ACTIVE_MODEL', 'PROJECT_NOT_FOUND']);

export const compatibilityRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/detect-anomaly',
    operationId: 'detectAnomaly',
    summary: 'Detect anomalies in one image with the default project (multipart field "file")',
    tags,
    compatGroup,
    body: oneImageBody,
    success: { status: 200, description: 'The detection', schema: detectionResponseSchema },
    errors: [404, 409, 413, 415, 422],
    handle: async ({ files, body, principal }, s) => ({
      status: 200,
      body: await detectPart(s, await defaultProjectId(s, principal), files.file[0], body),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/batch-detect',
    operationId: 'batchDetect',
    summary: 'Detect anomalies in several images (multipart fields "files") with the default project',
    description: 'An image that cannot be read gets an error entry in its place; the others are detected.',
    tags,
    compatGroup,
    body: {
      multipart: {
        fields: detectFields,
        files: [{ name: 'files', description: 'The images', required: true, multiple: true }],
      },
    },
    success: {
      status: 200,
      description: 'Per-image results and a summary',
      schema: z.object({
        results: z.array(
          z.union([
            detectionResponseSchema.extend({ filename: z.string() }),
            z.object({ filename: z.string(), error: z.object({ code: z.string(), message: z.string() }) }),
          ]),
        ),
        summary: batchSummarySchema
          .pick({ total_images: true, faulty_count: true, normal_count: true, average_processing_time: true })
          .extend({ failed_count: z.number().int() }),
      }),
    },
    errors: [404, 409, 413, 415],
    handle: async ({ files, body, principal }, s) => {
      const projectId = await defaultProjectId(s, principal);
      const results: Record<string, unknown>[] = [];
      let faulty = 0;
      let time = 0;
      let failed = 0;
      for (const file of files.files) {
        try {
          const detection = await detectPart(s, projectId, file, body);
          if (detection.is_anomalous) faulty++;
          time += detection.processing_time;
          results.push({ filename: file.filename, ...detection });
        } catch (error) {
          // An image the caller sent that cannot be used gets an entry; anything else ends the request as it would alone.
          const { code, message } = error as { code: string; message: string };
          if (!isCallersFault(error) || ABORTS_BATCH.has(code)) throw error;
          failed++;
          results.push({ filename: file.filename, error: { code, message } });
        }
      }
      const ok = files.files.length - failed;
      return {
        status: 200,
        body: {
          results,
          summary: {
            total_images: files.files.length,
            faulty_count: faulty,
            normal_count: ok - faulty,
            failed_count: failed,
            average_processing_time: ok ? Number((time / ok).toFixed(4)) : 0,
          },
        },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/model-info',
    operationId: 'modelInfo',
    summary: 'The default project’s active model',
    tags,
    compatGroup,
    success: { status: 200, description: 'Model information', schema: z.record(z.string(), z.unknown()) },
    errors: [404, 409],
    handle: async ({ principal }, s) => ({
      status: 200,
      body: await modelInfo(s, await defaultProjectId(s, principal)),
    }),
  }),
];

import { z } from 'zod';
import { jobSchema } from '../../service/domain/job.ts';
import { modelVersionSchema } from '../../service/domain/model-version.ts';
import { getJob, publicJob } from '../../service/jobs/jobs-service.ts';
import { activateModel, getModel, listModels, modelDownload, modelInfo } from '../../service/models/models-service.ts';
import { requireProject } from '../../service/projects/projects-service.ts';
import { requestTraining } from '../../service/training/training-service.ts';
import { defineRoute } from '../http/route.ts';
import { page, pageQuery, projectParams } from './common.ts';

const versionParams = projectParams.extend({
  version: z.coerce.number().int().positive().meta({ description: 'Model version number' }),
});

export const trainingRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/train',
    operationId: 'train',
    summary: 'Train a new model version from the project’s normal images',
    description:
      'Answers 202 with the job. Send an Idempotency-Key header to make retries safe: the same key returns the same job. Object-detection projects answer 501 with the reason: training YOLO needs a deep-learning trainer this stack does not have (upload the exported ONNX instead).',
    tags: ['Training'],
    params: projectParams,
    success: {
      status: 202,
      description: 'The training job (an earlier one for a repeated Idempotency-Key)',
      schema: jobSchema,
    },
    errors: [404, 409, 501],
    handle: async ({ params, headers }, s) => {
      const { job } = await requestTraining(s, params.projectId, headers['idempotency-key']);
      return { status: 202, body: job, headers: { location: `/api/v1/jobs/${job.id}` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/jobs/{jobId}',
    operationId: 'getJob',
    summary: 'A job’s status, progress, attempts and error',
    tags: ['Training'],
    params: z.object({ jobId: z.uuid() }),
    success: { status: 200, description: 'The job', schema: jobSchema },
    errors: [404],
    handle: async ({ params, principal }, s) => ({ status: 200, body: await getJob(s, params.jobId, principal) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/jobs',
    operationId: 'listJobs',
    summary: 'The project’s jobs, newest first',
    tags: ['Training'],
    params: projectParams,
    query: pageQuery,
    success: { status: 200, description: 'A page of jobs', schema: page(jobSchema, 'JobPage') },
    errors: [404],
    handle: async ({ params, query }, s) => {
      await requireProject(s, params.projectId);
      const jobs = await s.jobs.listByProject(params.projectId, query.limit, query.cursor);
      return { status: 200, body: { items: jobs.items.map(publicJob), cursor: jobs.cursor } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/models',
    operationId: 'listModels',
    summary: 'The project’s model versions, newest first',
    tags: ['Models'],
    params: projectParams,
    success: { status: 200, description: 'Model versions', schema: z.object({ items: z.array(modelVersionSchema) }) },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: { items: await listModels(s, params.projectId) } }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/models/{version}',
    operationId: 'getModel',
    summary: 'One model version',
    tags: ['Models'],
    params: versionParams,
    success: { status: 200, description: 'The model version', schema: modelVersionSchema },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: await getModel(s, params.projectId, params.version) }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/models/{version}/activate',
    operationId: 'activateModel',
    summary: 'Make this version the one detections use',
    tags: ['Models'],
    params: versionParams,
    success: { status: 200, description: 'The activated version', schema: modelVersionSchema },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: await activateModel(s, params.projectId, params.version) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/models/{version}/download',
    operationId: 'downloadModel',
    summary:
      'Presigned URLs of the model artifact’s files (manifest.json, bank.f32, bank-sources.u32, bank-cells.i32 when saved with it)',
    tags: ['Models'],
    params: versionParams,
    success: {
      status: 200,
      description: 'Download links',
      schema: z.object({
        version: z.number().int(),
        expiresIn: z.number().int(),
        files: z.array(z.object({ name: z.string(), url: z.string() })),
      }),
    },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: await modelDownload(s, params.projectId, params.version) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/model-info',
    operationId: 'projectModelInfo',
    summary: 'The active model: type, backbone, version, quality verdict, thresholds, metrics, training date, formats',
    tags: ['Models'],
    params: projectParams,
    success: {
      status: 200,
      description: 'Model information',
      schema: z.record(z.string(), z.unknown()).meta({ id: 'ModelInfo' }),
    },
    errors: [404, 409],
    handle: async ({ params }, s) => ({ status: 200, body: await modelInfo(s, params.projectId) }),
  }),
];

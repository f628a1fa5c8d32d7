import { z } from 'zod';
import type { Principal } from '../../service/auth/principal.ts';
import { uploadImages } from '../../service/datasets/datasets-service.ts';
import { detectImage, visualizationUrls } from '../../service/detection/detection-service.ts';
import type { Job } from '../../service/domain/job.ts';
import { createProjectSchema } from '../../service/domain/project.ts';
import { ServiceError } from '../../service/errors.ts';
import { getJob } from '../../service/jobs/jobs-service.ts';
import { getModel, modelDownload } from '../../service/models/models-service.ts';
import { apiResultInputKey } from '../../service/object-keys.ts';
import { createProject, requireProject } from '../../service/projects/projects-service.ts';
import { existingSceneProject, sceneProject } from '../../service/projects/scene-projects.ts';
import type { Services } from '../../service/services.ts';
import { requestTraining } from '../../service/training/training-service.ts';
import { defineRoute, type ErrorShape, type UploadedPart } from '../http/route.ts';
import { projectParams } from './common.ts';

/**
 * The project/training backend's routes, without its /api/v1 prefix (Faultline's own routes are all under /api/v1,
 * so no route key is shared). Its clients read `detail` in errors (FastAPI's shape); the Faultline error is beside it.
 */
const tags = ['Compatibility: training backend'];
const compatGroup = 'training-backend' as const;
const errorShape: ErrorShape = {
  schema: z
    .object({ detail: z.string(), error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) })
    .meta({ id: 'TrainingBackendError' }),
  render: (e) => ({ body: { detail: e.message, error: { code: e.code, message: e.message, requestId: e.requestId } } }),
};

/** Its job states, in its lower-case words. */
const STATUS = { QUEUED: 'pending', RUNNING: 'running', SUCCEEDED: 'completed', FAILED: 'failed' } as const;

/** A model as its clients name it: the project and the version, in one opaque id they read from the job. */
const modelId = (projectId: string, version: number) => `${projectId}.v${version}`;
const modelParams = z.object({
  model_id: z
    .string()
    .regex(/^[0-9a-f-]{36}\.v\d{1,9}$/, 'a model_id as GET /jobs/{job_id} gives it (PROJECT.vN)')
    .transform((id) => ({ projectId: id.slice(0, 36), version: Number(id.slice(38)) })),
});

async function modelOf(s: Services, ref: { projectId: string; version: number }, by: Principal) {
  await requireProject(s, ref.projectId, by);
  return getModel(s, ref.projectId, ref.version);
}

const jobView = (job: Job) => ({
  job_id: job.id,
  project_id: job.projectId,
  type: job.type,
  status: STATUS[job.status],
  progress:
    job.status === 'SUCCEEDED'
      ? 100
      : job.progress && job.progress.total > 0
        ? Math.round((job.progress.done / job.progress.total) * 100)
        : 0,
  stage: job.progress?.stage ?? null,
  model_id: job.status === 'SUCCEEDED' ? modelId(job.projectId, Number(job.output?.modelVersion)) : null,
  error: job.error?.message ?? null,
  created_at: job.createdAt,
  started_at: job.startedAt,
  finished_at: job.finishedAt,
});
const jobViewSchema = z.object({
  job_id: z.string(),
  project_id: z.string(),
  type: z.string(),
  status: z.enum(['pending', 'running', 'completed', 'failed']),
  progress: z.number().int().min(0).max(100),
  stage: z.string().nullable(),
  model_id: z.string().nullable(),
  error: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});

/**
 * Its training fields: accepted so that its clients' bodies pass; PatchCore has no gradient training (one pass over
 * the images builds the bank), so epochs, lr and batch_size mean nothing here, and img_size is fixed by the backbone's
 * preprocessing (240, centre crop 224). Each answer says so in `notes`.
 */
const trainFields = z.object({
  img_size: z.coerce.number().int().positive().max(4096).optional(),
  epochs: z.coerce.number().int().positive().max(100_000).optional(),
  lr: z.coerce.number().positive().optional(),
  batch_size: z.coerce.number().int().positive().max(4096).optional(),
  backbone: z.string().max(100).optional(),
  model_type: z.string().max(100).optional(),
});
const NOTES: Record<keyof z.infer<typeof trainFields>, string> = {
  img_size: 'ignored: the input size is fixed by the backbone (resize 240, centre crop 224)',
  epochs: 'ignored: PatchCore builds its memory bank in one pass, without epochs',
  lr: 'ignored: PatchCore has no gradient training',
  batch_size: 'ignored: the service batches images itself',
  backbone: "ignored: the deployment's backbone is used (see models/README.md)",
  model_type: 'ignored: the model is PatchCore',
};
const notesFor = (body: Record<string, unknown>) =>
  Object.keys(body)
    .filter((k) => body[k] !== undefined && k in NOTES)
    .map((k) => `${k}: ${NOTES[k as keyof typeof NOTES]}`);

async function startTraining(s: Services, projectId: string, body: Record<string, unknown>) {
  const { job, created } = await requestTraining(s, projectId);
  return { status: created ? 202 : 200, body: { ...jobView(job), notes: notesFor(body) } };
}

const filesBody = (name: string) => ({
  multipart: {
    fields: z.object({}),
    files: [{ name, description: 'Normal images', required: true, multiple: true }],
  },
});

async function upload(s: Services, projectId: string, files: UploadedPart[]) {
  const outcome = await uploadImages(
    s,
    projectId,
    files.map((f) => ({ name: f.filename || 'image', bytes: f.content })),
  );
  const project = await requireProject(s, projectId);
  return {
    project_id: projectId,
    uploaded: outcome.accepted.length,
    files: outcome.accepted.map((a) => a.name),
    rejected: outcome.rejected.map((r) => ({ filename: r.name, reason: r.message })),
    total_images: project.imageCount,
  };
}
const uploadSchema = z.object({
  project_id: z.string(),
  uploaded: z.number().int(),
  files: z.array(z.string()),
  rejected: z.array(z.object({ filename: z.string(), reason: z.string() })),
  total_images: z.number().int(),
});
const trainAnswer = jobViewSchema.extend({ notes: z.array(z.string()) });

export const trainingBackendRoutes = [
  defineRoute({
    method: 'POST',
    path: '/projects',
    operationId: 'legacyCreateProject',
    summary: 'Create a project (JSON name, description)',
    tags,
    compatGroup,
    errorShape,
    body: { json: z.object({ name: z.string(), description: z.string().max(2000).optional() }) },
    success: {
      status: 201,
      description: 'The project',
      schema: z.object({
        id: z.string(),
        project_id: z.string(),
        name: z.string(),
        description: z.string(),
        created_at: z.string(),
      }),
    },
    errors: [403],
    handle: async ({ body, principal }, s) => {
      const p = await createProject(s, createProjectSchema.parse(body), principal);
      return {
        status: 201,
        body: { id: p.id, project_id: p.id, name: p.name, description: p.description ?? '', created_at: p.createdAt },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/projects/{projectId}/upload',
    operationId: 'legacyUpload',
    summary: 'Add normal images to a project (multipart "files")',
    tags,
    compatGroup,
    errorShape,
    params: projectParams,
    body: filesBody('files'),
    success: { status: 200, description: 'What was kept', schema: uploadSchema },
    errors: [404, 413],
    handle: async ({ params, files }, s) => ({ status: 200, body: await upload(s, params.projectId, files.files!) }),
  }),
  defineRoute({
    method: 'POST',
    path: '/projects/{projectId}/train',
    operationId: 'legacyTrain',
    summary: 'Train a project (its fields accepted; what each means here is in `notes`)',
    tags,
    compatGroup,
    errorShape,
    params: projectParams,
    body: { json: trainFields.partial().optional().default({}) },
    success: { status: 202, description: 'The job', schema: trainAnswer },
    errors: [404, 409],
    handle: async ({ params, body }, s) => startTraining(s, params.projectId, body ?? {}),
  }),
  defineRoute({
    method: 'GET',
    path: '/jobs/{job_id}',
    operationId: 'legacyJob',
    summary: 'A job: job_id, status (pending, running, completed, failed), progress 0 to 100, model_id when done',
    tags,
    compatGroup,
    errorShape,
    params: z.object({ job_id: z.string().min(1).max(100) }),
    success: { status: 200, description: 'The job', schema: jobViewSchema },
    errors: [404],
    handle: async ({ params, principal }, s) => ({
      status: 200,
      body: jobView(await getJob(s, params.job_id, principal)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/models/{model_id}/test',
    operationId: 'legacyTestModel',
    summary: 'Test a model on one image (multipart "file"): the verdict with URLs of the input, heatmap and overlay',
    tags,
    compatGroup,
    errorShape,
    params: modelParams,
    body: {
      multipart: {
        fields: z.object({}),
        files: [{ name: 'file', description: 'The image', required: true, multiple: false }],
      },
    },
    success: {
      status: 200,
      description: 'The verdict',
      schema: z.object({
        model_id: z.string(),
        result_id: z.string(),
        anomaly_score: z.number(),
        is_anomalous: z.boolean(),
        classification: z.string(),
        damage_percentage: z.number(),
        threshold: z.number(),
        input_url: z.string(),
        heatmap_url: z.string(),
        overlay_url: z.string(),
      }),
    },
    errors: [404, 409, 413, 415, 422],
    handle: async ({ params, files, principal }, s) => {
      const model = await modelOf(s, params.model_id, principal);
      const file = files.file![0]!;
      const record = await detectImage(s, model.projectId, file.content, file.filename || 'image', {
        visualizations: true,
        modelVersion: model.version,
      });
      // Its clients fetch the input back by URL: kept beside the result's PNGs (and deleted with the project).
      const inputKey = apiResultInputKey(model.projectId, record.id);
      await s.objects.put(inputKey, file.content, file.mimetype || 'application/octet-stream');
      const urls = (await visualizationUrls(s, record)) ?? {};
      return {
        status: 200,
        body: {
          model_id: modelId(model.projectId, model.version),
          result_id: record.id,
          anomaly_score: record.result.anomaly_score,
          is_anomalous: record.result.is_anomalous,
          classification: record.result.classification,
          damage_percentage: record.result.damage_percentage,
          threshold: record.result.threshold,
          input_url: await s.objects.presignGet(inputKey, s.config.FAULTLINE_PRESIGN_SECONDS),
          heatmap_url: urls.heatmap_url ?? '',
          overlay_url: urls.overlay_url ?? '',
        },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/models/{model_id}/download',
    operationId: 'legacyDownloadModel',
    summary: 'The model’s files, as presigned URLs',
    tags,
    compatGroup,
    errorShape,
    params: modelParams,
    success: {
      status: 200,
      description: 'The files',
      schema: z.object({
        model_id: z.string(),
        expires_in: z.number().int(),
        files: z.array(z.object({ name: z.string(), url: z.string() })),
      }),
    },
    errors: [404],
    handle: async ({ params, principal }, s) => {
      const model = await modelOf(s, params.model_id, principal);
      const d = await modelDownload(s, model.projectId, model.version);
      return {
        status: 200,
        body: { model_id: modelId(model.projectId, model.version), expires_in: d.expiresIn, files: d.files },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/models/{model_id}/results/{result_id}/{image}',
    operationId: 'legacyDownloadResultImage',
    summary: 'One image of a test (input, heatmap or overlay): a redirect to it',
    tags,
    compatGroup,
    errorShape,
    params: modelParams.extend({
      result_id: z.string().regex(/^[\w:.-]{1,100}$/),
      image: z.enum(['input', 'heatmap', 'overlay']),
    }),
    success: { status: 302, description: 'Location: a presigned URL of the image' },
    errors: [404],
    handle: async ({ params, principal }, s) => {
      const model = await modelOf(s, params.model_id, principal);
      const record = await s.results.get(model.projectId, params.result_id);
      if (!record)
        throw new ServiceError(
          'NOT_FOUND',
          `no result ${params.result_id} of model ${modelId(model.projectId, model.version)}`,
        );
      const key =
        params.image === 'input'
          ? apiResultInputKey(model.projectId, record.id)
          : record.visualizationKeys?.[params.image];
      if (!key || !(await s.objects.head(key)))
        throw new ServiceError('NOT_FOUND', `result ${params.result_id} has no ${params.image} image`);
      return {
        status: 302,
        headers: { location: await s.objects.presignGet(key, s.config.FAULTLINE_PRESIGN_SECONDS) },
      };
    },
  }),
  // The legacy scene flow: a scene is a project named by its id, made at its first upload.
  defineRoute({
    method: 'POST',
    path: '/datasets/{scene_id}/upload',
    operationId: 'legacySceneUpload',
    summary: 'Add normal images to a scene (multipart "files"); the scene’s project is made at its first upload',
    tags,
    compatGroup,
    errorShape,
    params: z.object({
      scene_id: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[\w.-]+$/, 'letters, digits, _ . -'),
    }),
    body: filesBody('files'),
    success: { status: 200, description: 'What was kept', schema: uploadSchema.extend({ scene_id: z.string() }) },
    errors: [403, 413],
    handle: async ({ params, files, principal }, s) => {
      const project = await sceneProject(s, params.scene_id, principal);
      return { status: 200, body: { scene_id: params.scene_id, ...(await upload(s, project.id, files.files!)) } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/train',
    operationId: 'legacySceneTrain',
    summary: 'Train a scene (JSON scene_id and its training fields)',
    tags,
    compatGroup,
    errorShape,
    body: { json: trainFields.extend({ scene_id: z.string().min(1).max(100) }) },
    success: { status: 202, description: 'The job', schema: trainAnswer },
    errors: [404, 409],
    handle: async ({ body, principal }, s) => {
      const { scene_id, ...fields } = body;
      const project = await existingSceneProject(s, scene_id, principal);
      return startTraining(s, project.id, fields);
    },
  }),
];

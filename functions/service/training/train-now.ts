import { MANIFEST_FILE } from '../../engine/artifact/model-artifact.ts';
import type { Job } from '../domain/job.ts';
import type { ModelVersion } from '../domain/model-version.ts';
import { uploadImages, type UploadedFile } from '../datasets/datasets-service.ts';
import { ServiceError } from '../errors.ts';
import { runJob } from '../jobs/run-job.ts';
import { getModel } from '../models/models-service.ts';
import type { Services } from '../services.ts';
import { requestTraining } from './training-service.ts';

/** How long a request waits for its training (API Gateway ends an integration at 29 s). */
export const TRAIN_NOW_WAIT_MS = 25_000;

const ended = (job: Job | undefined) => job?.status === 'SUCCEEDED' || job?.status === 'FAILED';

/**
 * Trains the project now, in this process, and answers with the model: for contracts whose clients expect the bank
 * to be built when their request returns (the Flask service's /load_reference). The job is the ordinary queued one,
 * so a worker that receives its message first runs it instead (the job's conditional start lets only one run it),
 * and this call waits for it either way, at most `waitMs`.
 */
export async function trainNow(
  s: Services,
  projectId: string,
  waitMs = TRAIN_NOW_WAIT_MS,
): Promise<{ job: Job; model: ModelVersion; featureDim: number }> {
  const { job } = await requestTraining(s, projectId);
  try {
    await runJob(s, job.id, { workerId: `api-${job.id}`, receiveCount: 1 });
  } catch (error) {
    // A failure a retry may mend: the message stays queued for the workers; the job's state below tells the caller.
    s.log({
      level: 'warn',
      msg: 'training in the request failed; left to the workers',
      jobId: job.id,
      error: String(error),
    });
  }
  const deadline = Date.now() + waitMs;
  let current = await s.jobs.get(job.id);
  while (!ended(current) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    current = await s.jobs.get(job.id);
  }
  if (!current || !ended(current))
    throw new ServiceError('TRAINING_IN_PROGRESS', `training job ${job.id} is still running; ask again shortly`, {
      jobId: job.id,
    });
  if (current.status === 'FAILED')
    throw new ServiceError('CONFLICT', `training failed: ${current.error?.message ?? 'unknown reason'}`, {
      jobId: job.id,
      cause: current.error?.code,
    });
  const model = await getModel(s, projectId, Number(current.output?.modelVersion));
  const manifest = await s.objects.get(`${model.artifactPrefix}${MANIFEST_FILE}`);
  const featureDim = manifest
    ? Number((JSON.parse(Buffer.from(manifest).toString('utf8')) as { memoryBank: { dims: number } }).memoryBank.dims)
    : NaN;
  return { job: current, model, featureDim };
}

/** Adds one normal image to the project's training images; an image the service cannot use is the caller's error. */
export async function addTrainingImage(s: Services, projectId: string, file: UploadedFile): Promise<void> {
  const { rejected } = await uploadImages(s, projectId, [file]);
  const refused = rejected[0];
  if (refused)
    throw new ServiceError(
      refused.code === 'UNSUPPORTED_IMAGE' ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_IMAGE',
      `${refused.name}: ${refused.message}`,
      { code: refused.code },
    );
}

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveModelArtifact } from '../../engine/artifact/model-artifact.ts';
import { memoryImage, type ImageSource } from '../../engine/dataset/image-source.ts';
import { MIN_IMAGES_WITH_HOLD_OUT, train } from '../../engine/training/train.ts';
import type { Job } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import { datasetKey } from '../object-keys.ts';
import { createJob } from '../jobs/jobs-service.ts';
import { ARTIFACT_FILES, modelPrefix } from '../models/model-cache.ts';
import { requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';

/** Starts training a new model version from the project's normal images; one training at a time per project. */
export async function requestTraining(s: Services, projectId: string, idempotencyKey?: string): Promise<{ job: Job; created: boolean }> {
  const project = await requireProject(s, projectId);
  const key = idempotencyKey ? `train:${projectId}:${idempotencyKey}` : undefined;
  if (key) {
    const earlier = await s.jobs.findByIdempotencyKey(key);
    const job = earlier ? await s.jobs.get(earlier) : undefined;
    if (job) return { job, created: false };
  }
  const running = await s.jobs.unfinished(projectId, 'train');
  if (running.length > 0) throw new ServiceError('TRAINING_IN_PROGRESS', `project ${projectId} is already training (job ${running[0].id})`, { jobId: running[0].id });
  if (project.imageCount < MIN_IMAGES_WITH_HOLD_OUT) {
    throw new ServiceError('NOT_ENOUGH_IMAGES', `training needs at least ${MIN_IMAGES_WITH_HOLD_OUT} normal images; the project has ${project.imageCount}`, { imageCount: project.imageCount });
  }
  // The version number is taken now, so a job retried after a crash makes this same version, never a second one.
  const version = await s.projects.nextModelVersion(projectId);
  return createJob(s, { projectId, type: 'train', input: { modelVersion: version }, idempotencyKey: key });
}

export type ProgressReporter = (stage: string, done: number, total: number) => void;

/** The worker's half: trains, stores the artifact and the model version, and activates it. */
export async function runTraining(s: Services, job: Job, report: ProgressReporter): Promise<Record<string, unknown>> {
  const project = await requireProject(s, job.projectId);
  const version = Number(job.input.modelVersion);
  // Ordered by file name as the CLI orders a folder, not by key (keys carry a random prefix): the same files always
  // give the same hold-out split, and the same model as `faultline train` on their folder.
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const images = (await s.images.all(job.projectId)).sort((a, b) => byName(a.name, b.name) || byName(a.key, b.key));
  if (images.length < MIN_IMAGES_WITH_HOLD_OUT) {
    throw new ServiceError('NOT_ENOUGH_IMAGES', `training needs at least ${MIN_IMAGES_WITH_HOLD_OUT} normal images; the project has ${images.length}`);
  }
  // Read lazily: only a batch of images is in memory at a time.
  const sources: ImageSource[] = images.map((image) => ({
    name: image.key.slice(datasetKey(job.projectId, '').length),
    read: async () => {
      const bytes = await s.objects.get(image.key);
      if (!bytes) throw new Error(`training image ${image.key} is gone`);
      return bytes;
    },
  }));
  const { artifact, report: training } = await train(sources, {
    version: `v${version}`,
    settings: { severityBands: project.severityBands },
    onProgress: (p) => report(p.stage, p.done, p.total),
  });
  const folder = await mkdtemp(join(tmpdir(), 'faultline-train-'));
  const prefix = modelPrefix(job.projectId, version);
  try {
    await saveModelArtifact(join(folder, 'model'), artifact);
    for (const file of ARTIFACT_FILES) await s.objects.put(`${prefix}${file}`, await readFile(join(folder, 'model', file)), file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  const m = artifact.manifest;
  const stored = await s.models.create({
    projectId: job.projectId,
    version,
    label: `v${version}`,
    type: 'PatchCore',
    backbone: m.backbone.id,
    layers: m.backbone.layers,
    preprocessing: { resize: m.preprocessing.resize, resizeTo: m.preprocessing.resizeTo, size: m.preprocessing.size },
    bankRows: m.memoryBank.rows,
    trainImages: training.trainImages,
    calibrationImages: training.calibrationImages,
    thresholds: { method: m.thresholds.method, image: m.thresholds.image.threshold, pixel: m.thresholds.pixel.threshold },
    metrics: {},
    trainingMs: training.timingsMs.total,
    jobId: job.id,
    artifactPrefix: prefix,
    createdAt: new Date().toISOString(),
  });
  // A newly trained model is what the user asked for: it becomes the active one.
  const updated = await s.projects.update(job.projectId, { activeModelVersion: stored.version, latestModelVersion: stored.version });
  await s.events.publish(
    { type: 'Model Activated', projectId: job.projectId, detail: { version: stored.version, label: stored.label, jobId: job.id } },
    updated,
  );
  return { modelVersion: stored.version, bankRows: stored.bankRows, trainImages: stored.trainImages, skipped: training.skipped.length, trainingMs: stored.trainingMs };
}

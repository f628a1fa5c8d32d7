import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ModelArtifact, saveModelArtifact } from '../../engine/artifact/model-artifact.ts';
import { memoryImage, type ImageSource } from '../../engine/dataset/image-source.ts';
import { appliedNormalisation } from '../../engine/features/input-statistics.ts';
import { MIN_TRAINING_IMAGES, train } from '../../engine/training/train.ts';
import type { Job } from '../domain/job.ts';
import { projectNotFound, ServiceError } from '../errors.ts';
import { datasetKey, modelPrefix } from '../object-keys.ts';
import { evaluateOnEvaluationSet } from '../evaluation/evaluation-set.ts';
import { createJob } from '../jobs/jobs-service.ts';
import { KINDS } from '../kinds/index.ts';
import { ARTIFACT_FILES } from '../models/model-cache.ts';
import { commitToProject, requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import type { StoredModel } from '../ports/model-store.ts';
import type { ProjectItem } from '../store/project-repository.ts';

/** How long a training slot may point to a job that was never written (its request died) before another takes it. */
const UNWRITTEN_JOB_GRACE_MS = 60_000;

const trainingInProgress = (projectId: string, jobId: string) =>
  new ServiceError('TRAINING_IN_PROGRESS', `project ${projectId} is already training (job ${jobId})`, { jobId });

/**
 * Takes the project's one training slot for a new job. The slot is a field on the project set by a conditional write,
 * so of parallel requests exactly one wins; a slot whose job has ended (or was never written) is taken over.
 */
async function claimTrainingSlot(s: Services, projectId: string, jobId: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const held = await s.projects.trainingClaim(projectId);
    if (!held) {
      if (await s.projects.claimTraining(projectId, jobId)) return;
      if (!(await s.projects.get(projectId))) throw projectNotFound(projectId);
      continue; // taken meanwhile: look at who holds it
    }
    const holder = await s.jobs.get(held.jobId);
    const ended = holder
      ? holder.status === 'SUCCEEDED' || holder.status === 'FAILED'
      : Date.now() - Date.parse(held.claimedAt) > UNWRITTEN_JOB_GRACE_MS;
    if (!ended) throw trainingInProgress(projectId, held.jobId);
    if (await s.projects.claimTraining(projectId, jobId, held.jobId)) return;
  }
  const held = await s.projects.trainingClaim(projectId);
  throw trainingInProgress(projectId, held?.jobId ?? 'unknown');
}

/** Starts training a new model version from the project's normal images; one training at a time per project. */
export async function requestTraining(
  s: Services,
  projectId: string,
  idempotencyKey?: string,
): Promise<{ job: Job; created: boolean }> {
  return requestModelJob(s, projectId, 'train', {}, idempotencyKey, (project) => {
    if (project.imageCount < MIN_TRAINING_IMAGES) {
      throw new ServiceError(
        'NOT_ENOUGH_IMAGES',
        `training needs at least ${MIN_TRAINING_IMAGES} normal image; the project has ${project.imageCount}`,
        { imageCount: project.imageCount },
      );
    }
  });
}

/**
 * Starts a job that makes a new model version (training, or an update from reviews): the same Idempotency-Key gives
 * the same job, the project's one training slot keeps such jobs one at a time, and the version number is taken now.
 * `check` refuses the request (after the idempotency look-up) when the project cannot make this version.
 */
export async function requestModelJob(
  s: Services,
  projectId: string,
  type: Job['type'],
  input: Record<string, unknown>,
  idempotencyKey: string | undefined,
  check: (project: ProjectItem) => void | Promise<void>,
): Promise<{ job: Job; created: boolean }> {
  const project = await requireProject(s, projectId);
  const unavailable = type === 'train' ? KINDS[project.kind].trainingUnavailable : undefined;
  if (unavailable)
    throw new ServiceError('NOT_IMPLEMENTED', unavailable.replaceAll('{projectId}', projectId), {
      projectId,
      kind: project.kind,
    });
  const key = idempotencyKey ? `${type}:${projectId}:${idempotencyKey}` : undefined;
  if (key) {
    const earlier = await s.jobs.findByIdempotencyKey(key);
    const job = earlier ? await s.jobs.get(earlier) : undefined;
    if (job) return { job, created: false };
  }
  await check(project);
  const jobId = randomUUID();
  await claimTrainingSlot(s, projectId, jobId);
  // The version number is taken now, so a job retried after a crash makes this same version, never a second one.
  const version = await s.projects.nextModelVersion(projectId);
  if (version === undefined) throw projectNotFound(projectId);
  const outcome = await createJob(s, {
    id: jobId,
    projectId,
    type,
    input: { ...input, modelVersion: version },
    idempotencyKey: key,
  });
  if (outcome.job.id !== jobId) {
    // A request with the same idempotency key got there first: its job already holds (or held) the slot, or, when it
    // died before writing that job, this request wrote it under the claimed id, which must hold the slot instead.
    if (outcome.created) await s.projects.claimTraining(projectId, outcome.job.id, jobId);
    else await s.projects.releaseTraining(projectId, jobId);
  }
  return outcome;
}

export type ProgressReporter = (stage: string, done: number, total: number) => void;

/** The worker's half (in the project the caller has read): trains, stores the artifact and the model version, and activates it. */
export async function runTraining(
  s: Services,
  job: Job,
  project: ProjectItem,
  report: ProgressReporter,
): Promise<Record<string, unknown>> {
  const version = Number(job.input.modelVersion);
  // Ordered by file name as the CLI orders a folder, not by key (keys carry a random prefix): the same files always
  // give the same calibration folds, and the same model as `faultline train` on their folder.
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const images = (await s.images.all(job.projectId)).sort((a, b) => byName(a.name, b.name) || byName(a.key, b.key));
  if (images.length < MIN_TRAINING_IMAGES) {
    throw new ServiceError(
      'NOT_ENOUGH_IMAGES',
      `training needs at least ${MIN_TRAINING_IMAGES} normal image; the project has ${images.length}`,
    );
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
    resolution: project.inspection?.resolution,
    multiScale: project.inspection?.multiScale,
    normalise: project.inspection?.normalise,
    onProgress: (p) => report(p.stage, p.done, p.total),
  });
  // Scored on the project's labelled evaluation set (an imported Lookout for Vision dataset) when it has one.
  const evaluation = await evaluateOnEvaluationSet(s, job.projectId, artifact, (done, total) =>
    report('evaluation', done, total),
  );
  if (evaluation)
    artifact.manifest.metrics = {
      imageAuroc: evaluation.imageAuroc,
      pixelAuroc: evaluation.pixelAuroc,
      f1: evaluation.f1,
      images: evaluation.images,
      source: 'the project evaluation set',
    };
  const stored = await publishModelVersion(s, job, artifact, {
    trainImages: training.trainImages,
    calibrationImages: training.calibrationImages,
    quality: {
      verdict: training.quality.verdict,
      reason: training.quality.reason,
      calibration: training.quality.calibration,
    },
    trainingMs: training.timingsMs.total,
    metrics: evaluation
      ? {
          ...Object.fromEntries(
            (['imageAuroc', 'pixelAuroc', 'f1', 'precision', 'recall', 'maskIou'] as const)
              .filter((k) => evaluation[k] !== undefined)
              .map((k) => [k, evaluation[k]]),
          ),
          evaluation: {
            images: evaluation.images,
            good: evaluation.good,
            anomalous: evaluation.anomalous,
            withMask: evaluation.withMask,
          },
        }
      : {},
  });
  return {
    modelVersion: stored.version,
    bankRows: stored.bankRows,
    trainImages: stored.trainImages,
    calibrationImages: stored.calibrationImages,
    quality: stored.quality,
    skipped: training.skipped.length,
    trainingMs: stored.trainingMs,
    ...(evaluation ? { evaluation } : {}),
  };
}

/** What a model version records beside its artifact's manifest (metrics: on the project's evaluation set, if any). */
export type ModelVersionFacts = Pick<
  StoredModel,
  'trainImages' | 'calibrationImages' | 'quality' | 'trainingMs' | 'derivedFrom'
> & { metrics?: StoredModel['metrics'] };

/**
 * Stores a job's new model: its artifact files under the version's prefix, its model version record, and makes it
 * the project's active model (announced as "Model Activated"). The previous version stays, to activate again.
 */
export async function publishModelVersion(
  s: Services,
  job: Job,
  artifact: ModelArtifact,
  facts: ModelVersionFacts,
): Promise<StoredModel> {
  const version = Number(job.input.modelVersion);
  const folder = await mkdtemp(join(tmpdir(), 'faultline-train-'));
  const prefix = modelPrefix(job.projectId, version);
  try {
    await saveModelArtifact(join(folder, 'model'), artifact);
    for (const file of ARTIFACT_FILES)
      await s.objects.put(
        `${prefix}${file}`,
        await readFile(join(folder, 'model', file)),
        file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      );
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
    preprocessing: {
      resize: m.preprocessing.resize,
      resizeTo: m.preprocessing.resizeTo,
      size: m.preprocessing.size,
      normalise: appliedNormalisation(m.preprocessing),
    },
    bankRows: m.memoryBank.rows,
    ...facts,
    thresholds: {
      method: m.thresholds.method,
      image: m.thresholds.image.threshold,
      pixel: m.thresholds.pixel.threshold,
    },
    ...(m.thresholds.histogram ? { scoreHistogram: m.thresholds.histogram } : {}),
    metrics: facts.metrics ?? {},
    jobId: job.id,
    artifactPrefix: prefix,
    createdAt: new Date().toISOString(),
  });
  // A new model is what the user asked for: it becomes the active one. Refused once the project is being deleted;
  // then what this job wrote is swept and nothing is announced.
  const updated =
    (await s.projects.update(job.projectId, {
      activeModelVersion: stored.version,
      latestModelVersion: stored.version,
    })) ?? (await commitToProject(s, job.projectId));
  await s.events.publish(
    {
      type: 'Model Activated',
      projectId: job.projectId,
      detail: { version: stored.version, label: stored.label, jobId: job.id },
    },
    updated,
  );
  return stored;
}

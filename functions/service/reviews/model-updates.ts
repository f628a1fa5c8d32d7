import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelArtifact, type ModelArtifact, sealManifest } from '../../engine/artifact/model-artifact.ts';
import { recalibrateWithDefects } from '../../engine/calibration/thresholds.ts';
import type { ImageSource } from '../../engine/dataset/image-source.ts';
import { extendMemoryBank } from '../../engine/training/extend-bank.ts';
import type { DetectionRecord } from '../domain/detection-record.ts';
import type { Job } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import { ARTIFACT_FILES, OPTIONAL_ARTIFACT_FILES } from '../models/model-cache.ts';
import { modelPrefix, REVIEWED_IMAGE_PREFIX } from '../object-keys.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import { type ProgressReporter, publishModelVersion, requestModelJob } from '../training/training-service.ts';

/** Reviewed images one bank update adds at most (about 5 MB of features each with the default backbone). */
export const MAX_IMAGES_PER_BANK_UPDATE = 100;

const requireActive = (project: ProjectItem): number => {
  if (project.kind !== 'anomaly')
    throw new ServiceError(
      'WRONG_PROJECT_KIND',
      `project ${project.id} is of kind ${project.kind}: reviews update anomaly models only`,
      {
        projectId: project.id,
        kind: project.kind,
      },
    );
  if (project.activeModelVersion === null)
    throw new ServiceError('NO_ACTIVE_MODEL', `project ${project.id} has no trained model to update`, {
      projectId: project.id,
    });
  return project.activeModelVersion;
};

/** The reviewed false alarms: flagged results a person called normal. */
const falseAlarms = (records: DetectionRecord[]) =>
  records.filter((r) => r.review?.verdict === 'normal' && r.result.is_anomalous);
const confirmedDefects = (records: DetectionRecord[]) => records.filter((r) => r.review?.verdict === 'defect');

/** Loads a stored model version's artifact (checked as any model is). */
async function loadStoredArtifact(s: Services, projectId: string, version: number): Promise<ModelArtifact> {
  const folder = await mkdtemp(join(tmpdir(), 'faultline-base-'));
  try {
    for (const file of ARTIFACT_FILES) {
      const bytes = await s.objects.get(`${modelPrefix(projectId, version)}${file}`);
      if (!bytes && OPTIONAL_ARTIFACT_FILES.has(file)) continue;
      if (!bytes)
        throw new ServiceError('MODEL_UNUSABLE', `model v${version} of project ${projectId} is missing ${file}`, {
          version,
        });
      await writeFile(join(folder, file), bytes);
    }
    return await loadModelArtifact(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * Starts a job making a new version from the active one with the reviewed false alarms' patches added to its memory
 * bank (only images the service kept: drop-folder images, and flagged API uploads with the project's keepFlaggedImages).
 */
export async function requestBankUpdate(s: Services, projectId: string, idempotencyKey?: string) {
  return requestModelJob(s, projectId, 'update-bank', {}, idempotencyKey, async (project) => {
    requireActive(project);
    const usable = falseAlarms(await s.reviews.reviewed(projectId)).filter((r) => r.source.key);
    if (usable.length === 0)
      throw new ServiceError(
        'CONFLICT',
        'no reviewed false alarm with a kept image: review flagged drop-folder results as normal first (API uploads are kept only with the project setting keepFlaggedImages)',
        { projectId },
      );
  });
}

/** Starts a job making a new version from the active one with its threshold recalibrated on the confirmed defects. */
export async function requestRecalibration(s: Services, projectId: string, idempotencyKey?: string) {
  return requestModelJob(s, projectId, 'recalibrate', {}, idempotencyKey, async (project) => {
    requireActive(project);
    if (confirmedDefects(await s.reviews.reviewed(projectId)).length === 0)
      throw new ServiceError('CONFLICT', 'no result has been reviewed as a defect yet', { projectId });
  });
}

/** The version a job starts from: the project's active one when the job runs (none: NO_ACTIVE_MODEL, permanent). */
const baseVersionOf = requireActive;

/** The worker's half of requestBankUpdate. */
export async function runBankUpdate(
  s: Services,
  job: Job,
  project: ProjectItem,
  report: ProgressReporter,
): Promise<Record<string, unknown>> {
  const started = performance.now();
  const baseVersion = baseVersionOf(project);
  const base = await loadStoredArtifact(s, project.id, baseVersion);
  const alarms = falseAlarms(await s.reviews.reviewed(project.id));
  const known = new Set(base.manifest.training.imageNames);
  const withImage = alarms.filter((r) => r.source.key);
  const fresh = withImage.filter((r) => !known.has(`${REVIEWED_IMAGE_PREFIX}${r.source.key}`));
  if (fresh.length === 0)
    throw new ServiceError(
      'CONFLICT',
      `every reviewed false alarm with a kept image (${withImage.length}) is in model v${baseVersion}'s bank already`,
      { baseVersion },
    );
  // Oldest first, at most a bounded number per version (their features are held in memory at once); the next update
  // takes the rest.
  const taken = fresh.slice(0, MAX_IMAGES_PER_BANK_UPDATE);
  const sources: ImageSource[] = taken.map((r) => ({
    name: `${REVIEWED_IMAGE_PREFIX}${r.source.key}`,
    read: async () => {
      const bytes = await s.objects.get(r.source.key!);
      if (!bytes) throw new ServiceError('NOT_FOUND', `the reviewed image ${r.source.key} is gone`);
      return bytes;
    },
  }));
  const version = Number(job.input.modelVersion);
  const { artifact, report: extension } = await extendMemoryBank(base, sources, {
    version: `v${version}`,
    onProgress: (p) => report(p.stage, p.done, p.total),
  });
  const baseModel = await s.models.get(project.id, baseVersion);
  const stored = await publishModelVersion(s, job, artifact, {
    trainImages: baseModel?.trainImages ?? base.manifest.training.images,
    calibrationImages: baseModel?.calibrationImages ?? base.manifest.thresholds.calibrationImages,
    ...(baseModel?.quality ? { quality: baseModel.quality } : {}),
    trainingMs: Math.round(performance.now() - started),
    derivedFrom: { version: baseVersion, by: 'update-bank', images: extension.addedImages },
  });
  return {
    modelVersion: stored.version,
    baseVersion,
    addedImages: extension.addedImages,
    addedRows: extension.addedRows,
    bankRows: stored.bankRows,
    skipped: extension.skipped.length,
    withoutImage: alarms.length - withImage.length,
    remaining: fresh.length - taken.length,
    trainingMs: stored.trainingMs,
  };
}

/** The worker's half of requestRecalibration. */
export async function runRecalibration(
  s: Services,
  job: Job,
  project: ProjectItem,
  report: ProgressReporter,
): Promise<Record<string, unknown>> {
  const started = performance.now();
  const baseVersion = baseVersionOf(project);
  const base = await loadStoredArtifact(s, project.id, baseVersion);
  const normals = base.manifest.thresholds.normalScores;
  if (!normals || normals.length === 0)
    throw new ServiceError(
      'MODEL_UNUSABLE',
      `model v${baseVersion} was trained before calibration scores were kept: train once more to recalibrate it`,
      { baseVersion },
    );
  const defects = confirmedDefects(await s.reviews.reviewed(project.id));
  // Each defect's raw score under the base model: scored again from its kept image, or its stored score when the base
  // model made the result; otherwise it cannot be placed on this model's scale and is left out.
  const detector = await s.modelCache.detector(project.id, baseVersion);
  const label = `v${baseVersion}`;
  const scores: number[] = [];
  let unplaced = 0;
  for (const [i, r] of defects.entries()) {
    report('calibration', i, defects.length);
    const bytes = r.source.key ? await s.objects.get(r.source.key) : undefined;
    if (bytes) scores.push((await detector.detect(bytes, { visualizations: false })).result.raw_score);
    else if (r.result.model_version === label) scores.push(r.result.raw_score);
    else unplaced++;
  }
  if (scores.length === 0)
    throw new ServiceError(
      'CONFLICT',
      `none of the ${defects.length} confirmed defects can be scored by model v${baseVersion}: their images are not kept and another version made them`,
      { baseVersion },
    );
  const thresholds = recalibrateWithDefects(base.manifest.thresholds, normals, scores);
  const version = Number(job.input.modelVersion);
  const { file, sha256, sourcesFile, sourcesSha256, ...memoryBank } = base.manifest.memoryBank;
  (void file, sha256, sourcesFile, sourcesSha256);
  const manifest = sealManifest(
    { ...base.manifest, version: `v${version}`, createdAt: new Date().toISOString(), thresholds, memoryBank },
    base.bank,
    base.sources,
  );
  const baseModel = await s.models.get(project.id, baseVersion);
  const stored = await publishModelVersion(
    s,
    job,
    { manifest, bank: base.bank, sources: base.sources },
    {
      trainImages: baseModel?.trainImages ?? base.manifest.training.images,
      calibrationImages: thresholds.calibrationImages,
      ...(baseModel?.quality ? { quality: baseModel.quality } : {}),
      trainingMs: Math.round(performance.now() - started),
      derivedFrom: { version: baseVersion, by: 'recalibrate', images: scores.length },
    },
  );
  return {
    modelVersion: stored.version,
    baseVersion,
    defects: scores.length,
    unplaced,
    normals: normals.length,
    threshold: { before: base.manifest.thresholds.image.threshold, after: thresholds.image.threshold },
    trainingMs: stored.trainingMs,
  };
}

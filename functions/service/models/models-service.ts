import { boundAtThreshold } from '../../engine/calibration/score-scale.ts';
import { CALIBRATED_THRESHOLD } from '../../engine/detection/detection-settings.ts';
import { judgeModelQuality } from '../../engine/training/model-quality.ts';
import type { ModelVersion } from '../domain/model-version.ts';
import { ServiceError } from '../errors.ts';
import { requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import { storedArtifactFiles } from './model-cache.ts';

/** A version as the API shows it: active or not, and its quality verdict (judged from its counts when stored before). */
function present(model: Omit<ModelVersion, 'active'>, activeVersion: number | null): ModelVersion {
  const quality =
    model.quality ??
    (({ verdict, reason, calibration }) => ({ verdict, reason, calibration }))(
      judgeModelQuality({ trainImages: model.trainImages, calibrationImages: model.calibrationImages, calibration: 'held-out' }),
    );
  return { ...model, quality, active: model.version === activeVersion };
}

/** PatchCore versions belong to anomaly projects; other kinds list theirs under /uploaded-models. */
async function requireAnomalyProject(s: Services, projectId: string) {
  const project = await requireProject(s, projectId);
  if (project.kind !== 'anomaly')
    throw new ServiceError(
      'WRONG_PROJECT_KIND',
      `project ${projectId} is of kind ${project.kind}: its model versions are at /api/v1/projects/${projectId}/uploaded-models`,
      { projectId, kind: project.kind },
    );
  return project;
}

export async function listModels(s: Services, projectId: string): Promise<ModelVersion[]> {
  const project = await requireAnomalyProject(s, projectId);
  return (await s.models.list(projectId)).map((m) => present(m, project.activeModelVersion));
}

export async function getModel(s: Services, projectId: string, version: number): Promise<ModelVersion> {
  const project = await requireAnomalyProject(s, projectId);
  const model = await s.models.get(projectId, version);
  if (!model) throw new ServiceError('MODEL_NOT_FOUND', `project ${projectId} has no model version ${version}`, { projectId, version });
  return present(model, project.activeModelVersion);
}

export async function activateModel(s: Services, projectId: string, version: number): Promise<ModelVersion> {
  const model = await getModel(s, projectId, version);
  const project = await s.projects.update(projectId, { activeModelVersion: version });
  await s.events.publish(
    { type: 'Model Activated', projectId, detail: { version, label: model.label } },
    project,
  );
  return { ...model, active: true };
}

/** What the existing clients' /model-info answers, for the project's active model. */
export async function modelInfo(s: Services, projectId: string): Promise<Record<string, unknown>> {
  const project = await requireProject(s, projectId);
  if (project.activeModelVersion === null) throw new ServiceError('NO_ACTIVE_MODEL', `project ${projectId} has no trained model yet`, { projectId });
  const model = await getModel(s, projectId, project.activeModelVersion);
  return {
    model_type: 'PatchCore',
    model_version: model.label,
    backbone: model.backbone,
    layers: model.layers,
    preprocessing: model.preprocessing,
    memory_bank_size: model.bankRows,
    training_images: model.trainImages,
    calibration_images: model.calibrationImages,
    quality: model.quality,
    training_date: model.createdAt,
    thresholds: model.thresholds,
    metrics: model.metrics,
    severity_bands: project.severityBands,
    decision_threshold: project.threshold,
    // The bands as they apply at the project's threshold: they move with it (score-scale.ts, onCalibratedScale).
    severity_bands_at_threshold: project.severityBands.map((b) =>
      b.below === undefined ? b : { ...b, below: Number(boundAtThreshold(b.below, project.threshold).toFixed(6)) },
    ),
    score_distribution: model.scoreHistogram
      ? {
          scale: `normalised image scores, ${model.scoreHistogram.normals.length} equal bins over 0..1`,
          calibrated_threshold: CALIBRATED_THRESHOLD,
          decision_threshold: project.threshold,
          normals: model.scoreHistogram.normals,
          defects: model.scoreHistogram.defects,
        }
      : null,
    supported_formats: ['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif', 'heif'],
    project: { id: project.id, name: project.name },
  };
}

export async function modelDownload(s: Services, projectId: string, version: number): Promise<{ version: number; expiresIn: number; files: { name: string; url: string }[] }> {
  const model = await getModel(s, projectId, version);
  const expiresIn = s.config.FAULTLINE_PRESIGN_SECONDS;
  return {
    version,
    expiresIn,
    files: await Promise.all((await storedArtifactFiles(s.objects, model.artifactPrefix)).map(async (name) => ({ name, url: await s.objects.presignGet(`${model.artifactPrefix}${name}`, expiresIn) }))),
  };
}

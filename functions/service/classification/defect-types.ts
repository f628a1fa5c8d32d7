import { cropRegions } from '../../engine/classification/region-crop.ts';
import type { DetectionFields } from '../domain/detection-record.ts';
import { ServiceError } from '../errors.ts';
import { authorizeProject } from '../projects/projects-service.ts';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import { activeUploadedModel, requireKind } from '../uploaded-models/uploaded-models-service.ts';
import { loadClassifier } from './classifier-cache.ts';

/**
 * Links an anomaly project to a classification project whose model names defect types (null unlinks). The caller
 * must be allowed to see both; the classifier must be a classification project.
 */
export async function linkDefectClassifier(
  s: Services,
  projectId: string,
  classifierProjectId: string | null,
  by: Principal,
): Promise<{ projectId: string; defectClassifier: string | null }> {
  await requireKind(s, projectId, 'anomaly');
  if (classifierProjectId !== null) {
    await authorizeProject(s, classifierProjectId, by);
    await requireKind(s, classifierProjectId, 'classification');
  }
  const updated = await s.projects.update(projectId, { defectClassifier: classifierProjectId });
  if (!updated) throw new ServiceError('PROJECT_NOT_FOUND', `no project ${projectId}`, { projectId });
  return { projectId, defectClassifier: updated.defectClassifier ?? null };
}

/**
 * Names each anomalous region's defect type with the project's linked classifier (its first head, on the region's
 * crop): `defect_type` and `defect_type_confidence` on every box. No classifier linked: the result is unchanged. A
 * linked classifier without a usable model is an error, never a guess.
 */
export async function nameDefectTypes(
  s: Services,
  project: ProjectItem,
  bytes: Uint8Array,
  result: DetectionFields,
): Promise<DetectionFields> {
  if (!project.defectClassifier || result.bounding_boxes.length === 0) return result;
  const classifierProject = await s.projects.get(project.defectClassifier);
  if (!classifierProject || classifierProject.kind !== 'classification')
    throw new ServiceError(
      'MODEL_UNUSABLE',
      `project ${project.id} names defect types with project ${project.defectClassifier}, which is not a classification project any more; link another (POST /api/v1/projects/${project.id}/defect-classifier)`,
      { projectId: project.id, classifier: project.defectClassifier },
    );
  const model = await activeUploadedModel(s, classifierProject);
  if (model.kind !== 'classification')
    throw new ServiceError('MODEL_UNUSABLE', `project ${classifierProject.id} has no classifier`);
  const classifier = await loadClassifier(s, model);
  const head = model.spec.heads[0].name;
  const crops = await cropRegions(bytes, result.bounding_boxes, result.image);
  const boxes = [];
  for (const [i, box] of result.bounding_boxes.entries()) {
    const answer = (await classifier.classify(crops[i])).heads[head];
    boxes.push({ ...box, defect_type: answer.label, defect_type_confidence: answer.confidence });
  }
  return { ...result, bounding_boxes: boxes, defect_type_model: `${classifierProject.id}/${model.label}` };
}

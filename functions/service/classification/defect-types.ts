import sharp from 'sharp';
import type { DetectionFields } from '../domain/detection-record.ts';
import { ServiceError } from '../errors.ts';
import { authorizeProject } from '../projects/projects-service.ts';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import { activeUploadedModel, requireKind } from '../uploaded-models/uploaded-models-service.ts';
import { loadClassifier } from './classifier-cache.ts';

/** Context around a region, as a share of its size on each side: a crack's crop shows some of the surface around it. */
const CROP_MARGIN = 0.25;
/** The smallest crop side, in image pixels: a tiny region is read with its surroundings. */
const MIN_CROP_SIDE = 32;

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

/** The crop of a region with its margin, clamped to the image (boxes are in displayed pixels: EXIF applied). */
export function regionCrop(
  box: { x: number; y: number; width: number; height: number },
  image: { width: number; height: number },
): { left: number; top: number; width: number; height: number } {
  const w = Math.max(box.width * (1 + 2 * CROP_MARGIN), MIN_CROP_SIDE);
  const h = Math.max(box.height * (1 + 2 * CROP_MARGIN), MIN_CROP_SIDE);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const left = Math.max(0, Math.floor(cx - w / 2));
  const top = Math.max(0, Math.floor(cy - h / 2));
  return {
    left,
    top,
    width: Math.max(1, Math.min(image.width - left, Math.ceil(w))),
    height: Math.max(1, Math.min(image.height - top, Math.ceil(h))),
  };
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
  const classifier = await loadClassifier(s, model);
  const head = model.spec.heads[0].name;
  const oriented = await sharp(bytes).rotate().toBuffer();
  const boxes = [];
  for (const box of result.bounding_boxes) {
    const crop = await sharp(oriented).extract(regionCrop(box, result.image)).png().toBuffer();
    const answer = (await classifier.classify(crop)).heads[head];
    boxes.push({ ...box, defect_type: answer.label, defect_type_confidence: answer.confidence });
  }
  return { ...result, bounding_boxes: boxes, defect_type_model: `${classifierProject.id}/${model.label}` };
}

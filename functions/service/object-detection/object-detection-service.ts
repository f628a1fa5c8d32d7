import { randomBytes } from 'node:crypto';
import { readInboxImage } from '../jobs/inbox-image.ts';
import { parseObjectDetectorSpec } from '../../engine/object-detection/detector-spec.ts';
import { ObjectDetector, type DetectObjectsOptions } from '../../engine/object-detection/object-detector.ts';
import { renderDetections } from '../../engine/object-detection/render-detections.ts';
import type { InboxObject, Job } from '../domain/job.ts';
import type { ObjectDetectionFields, ObjectDetectionRecord } from '../domain/object-detection-record.ts';
import { ServiceError } from '../errors.ts';
import { API_BATCH, apiResultPrefix, inboxBatch, inboxResultKeys, OBJECTS_PNG } from '../object-keys.ts';
import { commitToProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import { resultId } from '../store/table-definition.ts';
import { loadedModelCache, type ModelLoader } from '../uploaded-models/loaded-model-cache.ts';
import { activeUploadedModel, requireKind } from '../uploaded-models/uploaded-models-service.ts';

const loadDetector: ModelLoader<ObjectDetector> = (bytes, model) =>
  ObjectDetector.load(bytes, parseObjectDetectorSpec(model.spec));

/** What runDetector answers: the fields kept and the PNG with the boxes drawn. */
interface DetectorRun {
  fields: ObjectDetectionFields;
  png: Buffer;
}

/** Runs the project's active YOLO detector on one image. No fallback: no model, or a broken one, is an error. */
export async function runDetector(
  s: Services,
  project: ProjectItem,
  bytes: Uint8Array,
  options: DetectObjectsOptions = {},
): Promise<DetectorRun> {
  const started = performance.now();
  const model = await activeUploadedModel(s, project);
  const detector = await loadedModelCache(s, 'object detector', loadDetector).get(model);
  const d = await detector.detect(bytes, options);
  const png = await renderDetections(bytes, d.objects);
  return {
    fields: {
      objects: d.objects,
      object_count: d.objects.length,
      thresholds: d.thresholds,
      model_version: model.label,
      model_type: 'onnx',
      image: d.image,
      processing_time: Number(((performance.now() - started) / 1000).toFixed(4)),
      timings_ms: d.timings_ms,
    },
    png,
  };
}

/** Per label, how many objects (the event's summary; the boxes are in the stored result). */
const countByLabel = (fields: ObjectDetectionFields): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const o of fields.objects) counts[o.label] = (counts[o.label] ?? 0) + 1;
  return counts;
};

async function announce(s: Services, project: ProjectItem, record: ObjectDetectionRecord): Promise<void> {
  await s.events.publish(
    {
      type: 'Objects Detected',
      projectId: project.id,
      detail: {
        resultId: record.id,
        batchId: record.batchId,
        source: record.source,
        object_count: record.result.object_count,
        labels: countByLabel(record.result),
        model_version: record.result.model_version,
      },
    },
    project,
  );
}

/** Synchronous detection (the API): detect, keep the result and its PNG, announce it. */
export async function detectObjects(
  s: Services,
  projectId: string,
  bytes: Uint8Array,
  name: string,
  options: DetectObjectsOptions = {},
): Promise<ObjectDetectionRecord> {
  const project = await requireKind(s, projectId, 'object-detection');
  const { fields, png } = await runDetector(s, project, bytes, options);
  const createdAt = new Date().toISOString();
  const id = resultId(createdAt, randomBytes(4).toString('hex'));
  const renderingKey = `${apiResultPrefix(projectId, id)}${OBJECTS_PNG}`;
  await s.objects.put(renderingKey, png, 'image/png');
  const record: ObjectDetectionRecord = {
    id,
    projectId,
    batchId: API_BATCH,
    source: { kind: 'api', name, key: null },
    createdAt,
    result: fields,
    renderingKey,
    resultKey: null,
  };
  await s.objectDetections.put(record);
  await announce(s, await commitToProject(s, projectId), record);
  return record;
}

/**
 * The drop folder for an object-detection project: detects in the object a job names and writes the result as JSON
 * and the PNG under results/{projectId}/ (mirroring the inbox path) and into the table; the id comes from the job, so
 * a retry rewrites.
 */
export async function runInboxObjectDetection(
  s: Services,
  job: Job,
  project: ProjectItem,
  { key, rest }: InboxObject,
): Promise<Record<string, unknown>> {
  const bytes = await readInboxImage(s, key);
  const { fields, png } = await runDetector(s, project, bytes);
  const id = resultId(job.createdAt, job.id.slice(0, 8));
  const keys = inboxResultKeys(project.id, rest);
  const renderingKey = `${keys.visualizationPrefix}${OBJECTS_PNG}`;
  await s.objects.put(renderingKey, png, 'image/png');
  const record: ObjectDetectionRecord = {
    id,
    projectId: project.id,
    batchId: inboxBatch(rest),
    source: { kind: 'inbox', name: rest, key },
    createdAt: job.createdAt,
    result: fields,
    renderingKey,
    resultKey: keys.json,
  };
  await s.objects.put(keys.json, `${JSON.stringify({ id, source: key, ...fields }, null, 2)}\n`, 'application/json');
  await s.objectDetections.put(record);
  await announce(s, await commitToProject(s, project.id), record);
  return { resultId: id, resultKey: keys.json, object_count: fields.object_count, labels: countByLabel(fields) };
}

/** A stored record with a presigned URL of its PNG (and of the drop-folder image it was made from). */
export async function presentObjectDetection(
  s: Services,
  record: ObjectDetectionRecord,
): Promise<ObjectDetectionRecord & { rendering_url: string; image_url?: string }> {
  const seconds = s.config.FAULTLINE_PRESIGN_SECONDS;
  return {
    ...record,
    rendering_url: await s.objects.presignGet(record.renderingKey, seconds),
    ...(record.source.key ? { image_url: await s.objects.presignGet(record.source.key, seconds) } : {}),
  };
}

export async function listObjectDetections(s: Services, projectId: string, limit: number, cursor?: string) {
  await requireKind(s, projectId, 'object-detection');
  const page = await s.objectDetections.list(projectId, limit, cursor);
  return { ...page, items: await Promise.all(page.items.map((r) => presentObjectDetection(s, r))) };
}

export async function getObjectDetection(s: Services, projectId: string, id: string) {
  await requireKind(s, projectId, 'object-detection');
  const record = await s.objectDetections.get(projectId, id);
  if (!record)
    throw new ServiceError('NOT_FOUND', `project ${projectId} has no object detection ${id}`, { projectId, id });
  return presentObjectDetection(s, record);
}

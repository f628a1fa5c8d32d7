import { randomBytes } from 'node:crypto';
import { readInboxImage } from '../jobs/inbox-image.ts';
import type { ClassificationFields, ClassificationRecord } from '../domain/classification-record.ts';
import type { InboxObject, Job } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import { API_BATCH, inboxBatch, inboxResultKeys } from '../object-keys.ts';
import { commitToProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import { resultId } from '../store/table-definition.ts';
import { activeUploadedModel, requireKind } from '../uploaded-models/uploaded-models-service.ts';
import { loadClassifier } from './classifier-cache.ts';

/** Runs the project's active classifier on one image. No fallback: no model, or a broken one, is an error. */
export async function runClassifier(
  s: Services,
  project: ProjectItem,
  bytes: Uint8Array,
): Promise<ClassificationFields> {
  const started = performance.now();
  const model = await activeUploadedModel(s, project);
  const classifier = await loadClassifier(s, model);
  const c = await classifier.classify(bytes);
  return {
    heads: c.heads,
    model_version: model.label,
    model_type: 'onnx',
    image: c.image,
    processing_time: Number(((performance.now() - started) / 1000).toFixed(4)),
    timings_ms: c.timings_ms,
  };
}

async function announce(s: Services, project: ProjectItem, record: ClassificationRecord): Promise<void> {
  await s.events.publish(
    {
      type: 'Classification Completed',
      projectId: project.id,
      detail: {
        resultId: record.id,
        batchId: record.batchId,
        source: record.source,
        labels: Object.fromEntries(Object.entries(record.result.heads).map(([name, h]) => [name, h.labels])),
        model_version: record.result.model_version,
      },
    },
    project,
  );
}

/** Synchronous classification (the API): classify, keep the result, announce it. */
export async function classifyImage(
  s: Services,
  projectId: string,
  bytes: Uint8Array,
  name: string,
): Promise<ClassificationRecord> {
  const project = await requireKind(s, projectId, 'classification');
  const result = await runClassifier(s, project, bytes);
  const createdAt = new Date().toISOString();
  const record: ClassificationRecord = {
    id: resultId(createdAt, randomBytes(4).toString('hex')),
    projectId,
    batchId: API_BATCH,
    source: { kind: 'api', name, key: null },
    createdAt,
    result,
    resultKey: null,
  };
  await s.classifications.put(record);
  await announce(s, await commitToProject(s, projectId), record);
  return record;
}

/**
 * The drop folder for a classification project: classifies the object a job names and writes the result as JSON under
 * results/{projectId}/ (mirroring the inbox path) and into the table; the id comes from the job, so a retry rewrites.
 */
export async function runInboxClassification(
  s: Services,
  job: Job,
  project: ProjectItem,
  { key, rest }: InboxObject,
): Promise<Record<string, unknown>> {
  const bytes = await readInboxImage(s, key);
  const result = await runClassifier(s, project, bytes);
  const id = resultId(job.createdAt, job.id.slice(0, 8));
  const keys = inboxResultKeys(project.id, rest);
  const record: ClassificationRecord = {
    id,
    projectId: project.id,
    batchId: inboxBatch(rest),
    source: { kind: 'inbox', name: rest, key },
    createdAt: job.createdAt,
    result,
    resultKey: keys.json,
  };
  await s.objects.put(keys.json, `${JSON.stringify({ id, source: key, ...result }, null, 2)}\n`, 'application/json');
  await s.classifications.put(record);
  await announce(s, await commitToProject(s, project.id), record);
  return {
    resultId: id,
    resultKey: keys.json,
    labels: Object.fromEntries(Object.entries(result.heads).map(([name, h]) => [name, h.labels])),
  };
}

export async function listClassifications(s: Services, projectId: string, limit: number, cursor?: string) {
  await requireKind(s, projectId, 'classification');
  return s.classifications.list(projectId, limit, cursor);
}

export async function getClassification(s: Services, projectId: string, id: string): Promise<ClassificationRecord> {
  await requireKind(s, projectId, 'classification');
  const record = await s.classifications.get(projectId, id);
  if (!record)
    throw new ServiceError('NOT_FOUND', `project ${projectId} has no classification ${id}`, { projectId, id });
  return record;
}

import { randomBytes } from 'node:crypto';
import { readInboxImage } from '../jobs/inbox-image.ts';
import type { Detection } from '../../engine/detection/detector.ts';
import { STAGES } from '../../engine/detection/detection-result.ts';
import { traced } from '../adapters/powertools.ts';
import { VISUALIZATION_KINDS } from '../../engine/visualize/render-visualizations.ts';
import { type DetectionRecord, VISUALIZATION_FIELDS } from '../domain/detection-record.ts';
import type { InboxObject, Job } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import { detectionCompletedDetail } from './detection-event.ts';
import {
  API_BATCH,
  apiImageKey,
  apiResultPrefix,
  datasetKey,
  inboxBatch,
  inboxResultKeys,
  reviewedImageKey,
} from '../object-keys.ts';
import { commitToProject, requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import { resultId } from '../store/table-definition.ts';
import { nameDefectTypes } from '../classification/defect-types.ts';

/** What a detection request may choose (the engine's DetectOptions add the settings, filled in from the project). */
export interface DetectionRequestOptions {
  /** Default: the project's threshold. */
  threshold?: number;
  visualizations: boolean;
  /** Default: the project's active model (an older contract may name a version). */
  modelVersion?: number;
}

/** Runs the project's active model on one image, with the project's severity bands and threshold. */
async function runModel(
  s: Services,
  project: ProjectItem,
  bytes: Uint8Array,
  options: DetectionRequestOptions,
): Promise<Detection> {
  if (project.kind !== 'anomaly')
    throw new ServiceError(
      'WRONG_PROJECT_KIND',
      `project ${project.id} is of kind ${project.kind}: send its images to POST /api/v1/projects/${project.id}/${project.kind === 'classification' ? 'classify' : 'detect-objects'}`,
      { projectId: project.id, kind: project.kind },
    );
  const version = options.modelVersion ?? project.activeModelVersion;
  if (version === null) {
    throw new ServiceError(
      'NO_ACTIVE_MODEL',
      `project ${project.id} has no trained model yet: upload normal images and POST /api/v1/projects/${project.id}/train`,
      { projectId: project.id },
    );
  }
  const detector = await traced('engine.load-model', () => s.modelCache.detector(project.id, version));
  return traced(
    'engine.detect',
    () =>
      detector.detect(bytes, {
        threshold: options.threshold ?? project.threshold,
        visualizations: options.visualizations,
        settings: { ...detector.manifest.settings, severityBands: project.severityBands },
      }),
    // The stages' own times, on the segment: the engine measures them (its timings_ms).
    (d) => ({ timings_ms: d.result.timings_ms }),
  );
}

/** Stores the PNGs under `prefix` and returns their keys by kind. */
async function storeVisualizations(
  s: Services,
  prefix: string,
  detection: Detection,
): Promise<Record<string, string> | null> {
  if (!detection.visualizations) return null;
  const keys: Record<string, string> = {};
  await Promise.all(
    VISUALIZATION_KINDS.map(async (kind) => {
      keys[kind] = `${prefix}${kind}.png`;
      await s.objects.put(keys[kind], detection.visualizations![kind], 'image/png');
    }),
  );
  return keys;
}

/** Presigned URLs of a record's PNGs, in the field names clients expect. */
export async function visualizationUrls(
  s: Services,
  record: Pick<DetectionRecord, 'visualizationKeys'>,
): Promise<Record<string, string> | null> {
  if (!record.visualizationKeys) return null;
  const urls: Record<string, string> = {};
  for (const [kind, key] of Object.entries(record.visualizationKeys)) {
    urls[VISUALIZATION_FIELDS[kind as keyof typeof VISUALIZATION_FIELDS]] = await s.objects.presignGet(
      key,
      s.config.FAULTLINE_PRESIGN_SECONDS,
    );
  }
  return urls;
}

/**
 * What a client reads beside a stored record: presigned URLs of its PNGs, of the image it was made from (drop-folder
 * images are kept; API uploads are not) and of the training image holding the nearest normal patch.
 */
export async function presentRecord(
  s: Services,
  record: DetectionRecord,
): Promise<{
  visualizations: Record<string, string> | null;
  evidence: DetectionRecord['result']['evidence'];
  image_url?: string;
}> {
  const seconds = s.config.FAULTLINE_PRESIGN_SECONDS;
  const evidence = record.result.evidence;
  return {
    visualizations: await visualizationUrls(s, record),
    evidence: evidence && {
      ...evidence,
      nearest_normal: {
        ...evidence.nearest_normal,
        url: await s.objects.presignGet(
          // A reviewed false alarm added to the bank is linked where it is kept; a training image in datasets/.
          reviewedImageKey(record.projectId, evidence.nearest_normal.image) ??
            datasetKey(record.projectId, evidence.nearest_normal.image),
          seconds,
        ),
      },
    },
    ...(record.source.key ? { image_url: await s.objects.presignGet(record.source.key, seconds) } : {}),
  };
}

async function announce(s: Services, project: ProjectItem, record: DetectionRecord): Promise<void> {
  const r = record.result;
  // Every detection, API or drop folder, ends here: its counts and the engine's stage timings.
  const ProjectId = project.id;
  s.metrics.record('Detections', 1, { ProjectId });
  if (r.is_anomalous) s.metrics.record('Anomalies', 1, { ProjectId });
  s.metrics.record('Anomalous', r.is_anomalous ? 1 : 0, { ProjectId });
  for (const stage of STAGES) s.metrics.record('StageLatency', r.timings_ms[stage], { Stage: stage });
  await s.events.publish(
    { type: 'Detection Completed', projectId: project.id, detail: detectionCompletedDetail(record) },
    project,
  );
}

/** Synchronous detection (the API): detect, keep the result and its images, answer with presigned URLs. */
export async function detectImage(
  s: Services,
  projectId: string,
  bytes: Uint8Array,
  name: string,
  options: DetectionRequestOptions,
): Promise<DetectionRecord> {
  const project = await requireProject(s, projectId);
  const detection = await runModel(s, project, bytes, options);
  const named = await nameDefectTypes(s, project, bytes, detection.result);
  const createdAt = new Date().toISOString();
  const id = resultId(createdAt, randomBytes(4).toString('hex'));
  // Kept only when the project asks for it, and only for flagged parts: what a reviewer may call a false alarm.
  let kept: string | null = null;
  if (project.keepFlaggedImages && detection.result.is_anomalous) {
    kept = apiImageKey(projectId, id);
    await s.objects.put(kept, bytes, `image/${detection.result.image.format}`);
  }
  const record: DetectionRecord = {
    id,
    projectId,
    batchId: API_BATCH,
    source: { kind: 'api', name, key: kept },
    createdAt,
    result: named,
    visualizationKeys: await storeVisualizations(s, apiResultPrefix(projectId, id), detection),
    resultKey: null,
  };
  await s.results.put(record);
  await announce(s, await commitToProject(s, projectId), record);
  return record;
}

/**
 * The worker's half of the drop folder: detects the object a job names, in the project the caller has read, and
 * writes the result as JSON and PNGs under results/{projectId}/ (mirroring the inbox path) and into the table. The
 * result id comes from the job, so a retry rewrites the same result rather than adding one.
 */
export async function runInboxDetection(
  s: Services,
  job: Job,
  project: ProjectItem,
  { key, rest }: InboxObject,
): Promise<Record<string, unknown>> {
  const bytes = await readInboxImage(s, key);
  const detection = await runModel(s, project, bytes, { visualizations: true });
  const named = await nameDefectTypes(s, project, bytes, detection.result);
  const id = resultId(job.createdAt, job.id.slice(0, 8));
  const keys = inboxResultKeys(project.id, rest);
  const record: DetectionRecord = {
    id,
    projectId: project.id,
    batchId: inboxBatch(rest),
    source: { kind: 'inbox', name: rest, key },
    createdAt: job.createdAt,
    result: named,
    visualizationKeys: await storeVisualizations(s, keys.visualizationPrefix, detection),
    resultKey: keys.json,
  };
  await s.objects.put(keys.json, `${JSON.stringify({ id, source: key, ...named }, null, 2)}\n`, 'application/json');
  await s.results.put(record);
  await announce(s, await commitToProject(s, project.id), record);
  return {
    resultId: id,
    resultKey: keys.json,
    is_anomalous: detection.result.is_anomalous,
    anomaly_score: detection.result.anomaly_score,
  };
}

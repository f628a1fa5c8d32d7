import { randomBytes } from 'node:crypto';
import { readInboxImage } from '../jobs/inbox-image.ts';
import type { Detection } from '../../engine/detection/detector.ts';
import { STAGES } from '../../engine/detection/detection-result.ts';
import { traced } from '../adapters/powertools.ts';
import { VISUALIZATION_KINDS, type Visualizations } from '../../engine/visualize/render-visualizations.ts';
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
import { abandonForGoneProject, requireProject } from '../projects/projects-service.ts';
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

/** Presigned URLs of a record's PNGs, in the field names clients expect (signed in parallel: signing is local work). */
export async function visualizationUrls(
  s: Services,
  record: Pick<DetectionRecord, 'visualizationKeys'>,
): Promise<Record<string, string> | null> {
  if (!record.visualizationKeys) return null;
  const entries = await Promise.all(
    Object.entries(record.visualizationKeys).map(async ([kind, key]) => [
      VISUALIZATION_FIELDS[kind as keyof typeof VISUALIZATION_FIELDS],
      await s.objects.presignGet(key, s.config.FAULTLINE_PRESIGN_SECONDS),
    ]),
  );
  return Object.fromEntries(entries);
}

/** Which of a record's links an answer returns: only those are presigned. */
export interface RecordLinks {
  visualizations?: boolean;
  /** The nearest normal patch's training image. */
  evidence?: boolean;
  /** The image itself, where it was kept. */
  image?: boolean;
}
const ALL_LINKS: Required<RecordLinks> = { visualizations: true, evidence: true, image: true };

/**
 * What a client reads beside a stored record: presigned URLs of its PNGs, of the image it was made from (drop-folder
 * images are kept; API uploads are not) and of the training image holding the nearest normal patch. Only the links
 * asked for are signed (a detection's answer has no image_url); the others are left out (evidence keeps no url).
 */
export async function presentRecord(
  s: Services,
  record: DetectionRecord,
  links: RecordLinks = ALL_LINKS,
): Promise<{
  visualizations: Record<string, string> | null;
  evidence: DetectionRecord['result']['evidence'];
  image_url?: string;
}> {
  const seconds = s.config.FAULTLINE_PRESIGN_SECONDS;
  const evidence = record.result.evidence;
  const [visualizations, nearestUrl, imageUrl] = await Promise.all([
    links.visualizations ? visualizationUrls(s, record) : null,
    links.evidence && evidence
      ? s.objects.presignGet(
          // A reviewed false alarm added to the bank is linked where it is kept; a training image in datasets/.
          reviewedImageKey(record.projectId, evidence.nearest_normal.image) ??
            datasetKey(record.projectId, evidence.nearest_normal.image),
          seconds,
        )
      : undefined,
    links.image && record.source.key ? s.objects.presignGet(record.source.key, seconds) : undefined,
  ]);
  return {
    visualizations,
    evidence:
      evidence &&
      (nearestUrl ? { ...evidence, nearest_normal: { ...evidence.nearest_normal, url: nearestUrl } } : evidence),
    ...(imageUrl ? { image_url: imageUrl } : {}),
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

/**
 * Keeps a detection's record: one table request that also checks the project is live (ResultStore.putIfProjectLive).
 * Everything else the detection wrote (objects) was written before, so a deletion either comes after and its sweep
 * finds all of it, or came before and the write is refused: then what was written is swept here (PROJECT_NOT_FOUND).
 */
async function commitRecord(s: Services, record: DetectionRecord): Promise<void> {
  if (!(await s.results.putIfProjectLive(record))) await abandonForGoneProject(s, record.projectId);
}

/**
 * A detection, as the API keeps it: the record, the PNGs it stored (for a route that answers with their bytes) and,
 * when asked for, its links as presentRecord gives them.
 */
export type ApiDetection = DetectionRecord & { pngs?: Visualizations; presented?: PresentedRecord };

/** The links beside a record (presentRecord). */
export type PresentedRecord = Awaited<ReturnType<typeof presentRecord>>;

/**
 * Synchronous detection (the API): detect, keep the result and its images, answer with presigned URLs. The project
 * is read once (or given by a caller that has read it), the image decoded once (by the engine, for the model and the
 * PNGs), the PNGs and a kept image stored at once, and the record committed in one table request.
 */
export async function detectImage(
  s: Services,
  projectId: string,
  bytes: Uint8Array,
  name: string,
  options: DetectionRequestOptions & {
    project?: ProjectItem;
    /** The links to presign for the answer: signed while the record is committed (signing needs no request). */
    present?: RecordLinks;
  },
): Promise<ApiDetection> {
  const project = options.project?.id === projectId ? options.project : await requireProject(s, projectId);
  const detection = await runModel(s, project, bytes, options);
  const named = await nameDefectTypes(s, project, bytes, detection.result);
  const createdAt = new Date().toISOString();
  const id = resultId(createdAt, randomBytes(4).toString('hex'));
  // Kept only when the project asks for it, and only for flagged parts: what a reviewer may call a false alarm.
  const kept = project.keepFlaggedImages && detection.result.is_anomalous ? apiImageKey(projectId, id) : null;
  const [visualizationKeys] = await Promise.all([
    storeVisualizations(s, apiResultPrefix(projectId, id), detection),
    kept ? s.objects.put(kept, bytes, `image/${detection.result.image.format}`) : undefined,
  ]);
  const record: DetectionRecord = {
    id,
    projectId,
    batchId: API_BATCH,
    source: { kind: 'api', name, key: kept },
    createdAt,
    result: named,
    visualizationKeys,
    resultKey: null,
  };
  const [, presented] = await Promise.all([
    commitRecord(s, record),
    options.present ? presentRecord(s, record, options.present) : undefined,
  ]);
  await announce(s, project, record);
  return Object.defineProperties(record, {
    pngs: { value: detection.visualizations, enumerable: false },
    presented: { value: presented, enumerable: false },
  });
}

/**
 * The worker's half of the drop folder: detects the object a job names, in the project the caller has read, and
 * writes the result as JSON and PNGs under results/{projectId}/ (mirroring the inbox path) and into the table. The
 * result id comes from the job, so a retry rewrites the same result rather than adding one. The same path as the
 * API's: the same PNGs (the engine's options), stored at once with the JSON, and one table request.
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
  const [visualizationKeys] = await Promise.all([
    storeVisualizations(s, keys.visualizationPrefix, detection),
    s.objects.put(keys.json, `${JSON.stringify({ id, source: key, ...named }, null, 2)}\n`, 'application/json'),
  ]);
  const record: DetectionRecord = {
    id,
    projectId: project.id,
    batchId: inboxBatch(rest),
    source: { kind: 'inbox', name: rest, key },
    createdAt: job.createdAt,
    result: named,
    visualizationKeys,
    resultKey: keys.json,
  };
  await commitRecord(s, record);
  await announce(s, project, record);
  return {
    resultId: id,
    resultKey: keys.json,
    is_anomalous: detection.result.is_anomalous,
    anomaly_score: detection.result.anomaly_score,
  };
}

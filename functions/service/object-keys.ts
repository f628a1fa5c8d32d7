import { randomBytes } from 'node:crypto';

/**
 * The bucket's folders:
 *   datasets/{projectId}/...   normal images to train on (uploads, presigned POSTs, or any S3 client)
 *   inbox/{projectId}/...      the drop folder: each image put here is detected by the workers
 *   models/{projectId}/v{n}/   model artifacts
 *   results/{projectId}/...    detection results (JSON) and visualizations (PNG)
 *   rejected/{projectId}/...   drop-folder objects set aside, each with the reason in its metadata
 *   metrics/{siteId}/...       the sensors drop folder: CSV files of points (metric,timestamp,value), streamed onto
 *                              the point stream and then removed (under the site, not a project: devices know sites)
 *   yolo-datasets/{projectId}/{datasetId}/   uploaded YOLO dataset ZIPs with their health reports (object detection)
 *   imports/{projectId}/...    datasets to import (a Lookout for Vision manifest and its images), read on request only
 *   evaluation/{projectId}/... the labelled evaluation set (images, binary masks, set.json) a training job scores
 *   series/{projectId}/{metricId}/{YYYY-MM-DD}.csv.gz   a metric's archived points, one gzip CSV per UTC day
 */
export type Folder =
  'datasets' | 'inbox' | 'models' | 'results' | 'rejected' | 'yolo-datasets' | 'imports' | 'evaluation' | 'series';

/** Every folder a project owns objects in (what deleting a project removes). */
export const PROJECT_FOLDERS: readonly Folder[] = [
  'datasets',
  'inbox',
  'models',
  'results',
  'rejected',
  'yolo-datasets',
  'imports',
  'evaluation',
  'series',
];

/**
 * The folders S3 announces on the work queue: new objects in the drop folder (detections) and in datasets/ (training
 * images), removals in datasets/. The CDK notification filters are made from this.
 */
export const NOTIFIED_FOLDERS = {
  created: ['inbox', 'datasets', 'metrics'],
  removed: ['datasets'],
} as const satisfies Record<'created' | 'removed', readonly (Folder | typeof METRICS_FOLDER)[]>;

/** The sensors drop folder (metrics/{siteId}/...): keyed by site, so not one of a project's folders. */
export const METRICS_FOLDER = 'metrics';

/** The site and file of a key in the sensors drop folder, or undefined (another folder, or a traversal). */
export function parseMetricsKey(key: string): { siteId: string; rest: string } | undefined {
  const [folder, siteId, ...rest] = key.split('/');
  if (folder !== METRICS_FOLDER || !siteId || rest.length === 0) return undefined;
  if ([siteId, ...rest].some((part) => part === '' || part === '.' || part === '..')) return undefined;
  return { siteId, rest: rest.join('/') };
}

/** The drop-folder sub-folder whose name the API's own detections use as their batch: refused in the inbox. */
export const API_BATCH = 'api';

/** Whether S3 announces this event on this key to the work queue (the bucket's notification configuration). */
export function isNotified(eventName: string, key: string): boolean {
  const folder = parseKey(key)?.folder ?? (parseMetricsKey(key) ? METRICS_FOLDER : undefined);
  if (!folder) return false;
  const folders: readonly string[] = eventName.startsWith('ObjectRemoved')
    ? NOTIFIED_FOLDERS.removed
    : NOTIFIED_FOLDERS.created;
  return folders.includes(folder);
}

const PROJECT_ID = /^[0-9a-f-]{36}$/;

/** A file name made safe for a key: letters, digits, dot, dash, underscore; no leading dots; at most 100 chars. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[^\w.-]+/g, '_')
    .replace(/^\.+/, '')
    .slice(-100);
  return cleaned || 'image';
}

/** The key of a training image from its name within the project's datasets/ folder (as models record it). */
export const datasetKey = (projectId: string, name: string): string => `datasets/${projectId}/${name}`;

export const uniqueDatasetKey = (projectId: string, fileName: string): string =>
  datasetKey(projectId, `${randomBytes(4).toString('hex')}-${safeFileName(fileName)}`);

/**
 * The name a stored training image is listed and ordered by: the file's own name, without the random prefix that
 * uniqueDatasetKey adds (so that presigned uploads train in the same order every time, like the CLI on a folder).
 */
export const datasetImageName = (key: string): string =>
  (key.split('/').pop() ?? key).replace(/^[0-9a-f]{8}-(?=.)/, '');

/**
 * The key as S3 writes it into notifications: form-URL-encoded (a space is '+', '(' is '%28') with '/' kept. A
 * handler decodes it with decodeS3Key.
 */
export function encodeS3Key(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%20/g, '+'),
    )
    .join('/');
}

/** S3 notifications URL-encode keys, with '+' for spaces. */
export const decodeS3Key = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));

/** The folder, project and the rest of a key, when the key is one of ours; undefined for anything else. */
export function parseKey(key: string): { folder: Folder; projectId: string; rest: string } | undefined {
  const [folder, projectId, ...rest] = key.split('/');
  if (!PROJECT_FOLDERS.includes(folder as Folder) || !PROJECT_ID.test(projectId ?? '') || rest.length === 0)
    return undefined;
  if (rest.some((part) => part === '' || part === '.' || part === '..')) return undefined;
  return { folder: folder as Folder, projectId, rest: rest.join('/') };
}

/** The batch of an inbox object: its first sub-folder under the project ('inbox' for files at the top). */
export function inboxBatch(rest: string): string {
  const parts = rest.split('/');
  return parts.length > 1 ? parts[0] : 'inbox';
}

/**
 * Where a drop-folder object's result goes: its path under results/ with the file name kept whole, so that
 * `c/photo.jpg` and `c/photo.png` never share a result. JSON keys end in `.json` and PNG keys in `/{kind}.png`, so no
 * two inbox objects can map to the same key.
 */
export function inboxResultKeys(projectId: string, rest: string): { json: string; visualizationPrefix: string } {
  return { json: `results/${projectId}/${rest}.json`, visualizationPrefix: `results/${projectId}/${rest}/` };
}

/** Where a model version's artifact files go. */
export const modelPrefix = (projectId: string, version: number): string => `models/${projectId}/v${version}/`;

/** The PNG of an object detection (boxes drawn), under the result's prefix (API or drop folder, as for anomalies). */
export const OBJECTS_PNG = 'objects.png';

/** Where the PNGs of an API detection go. */
export const apiResultPrefix = (projectId: string, resultId: string): string =>
  `results/${projectId}/${API_BATCH}/${resultId}/`;

/** Where the image of an API detection is kept when a contract hands out its URL (the training backend's test). */
export const apiResultInputKey = (projectId: string, resultId: string): string =>
  `${apiResultPrefix(projectId, resultId)}input`;

/** Where a refused drop-folder object is set aside: the same path under rejected/. */
export const rejectedKey = (projectId: string, rest: string): string => `rejected/${projectId}/${rest}`;

/**
 * The name a reviewed image (a false alarm added to a model's bank) has among the model's training images: its object
 * key behind this prefix, so that a detection's evidence links it where it is kept.
 */
export const REVIEWED_IMAGE_PREFIX = 'review:';

/** Where a flagged API detection's image is kept when its project keeps them (keepFlaggedImages). */
export const apiImageKey = (projectId: string, resultId: string): string =>
  `${apiResultPrefix(projectId, resultId)}image`;

/**
 * The object key of a reviewed image a model names, when the name is one and the key is the project's own kept image
 * (in its drop folder, or a kept API upload).
 */
export function reviewedImageKey(projectId: string, name: string): string | undefined {
  if (!name.startsWith(REVIEWED_IMAGE_PREFIX)) return undefined;
  const key = name.slice(REVIEWED_IMAGE_PREFIX.length);
  const parsed = parseKey(key);
  if (!parsed || parsed.projectId !== projectId) return undefined;
  const kept = parsed.folder === 'inbox' || (parsed.folder === 'results' && parsed.rest.startsWith(`${API_BATCH}/`));
  return kept ? key : undefined;
}
/** Where an uploaded YOLO dataset ZIP and its health report go (not a notified folder: nothing trains on it here). */
export const yoloDatasetKeys = (projectId: string, datasetId: string): { zip: string; report: string } => ({
  zip: `yolo-datasets/${projectId}/${datasetId}/dataset.zip`,
  report: `yolo-datasets/${projectId}/${datasetId}/report.json`,
});

/**
 * Where a large model is uploaded (presigned) before it is checked and registered as a version: under the project's
 * models/ folder (so that deleting the project removes it), never a version's prefix.
 */
export const modelStagingPrefix = (projectId: string): string => `models/${projectId}/staging/`;
export const newStagedModelKey = (projectId: string): string =>
  `${modelStagingPrefix(projectId)}${randomBytes(16).toString('hex')}.onnx`;
/** Whether a key is one that newStagedModelKey makes for this project (nothing else may be registered from). */
export const isStagedModelKey = (projectId: string, key: string): boolean =>
  key.startsWith(modelStagingPrefix(projectId)) &&
  /^[0-9a-f]{32}\.onnx$/.test(key.slice(modelStagingPrefix(projectId).length));

/** Where a project's datasets to import lie: an S3 reference s3://{bucket}/{key} of another bucket maps to {bucket}/{key} here. */
export const importsPrefix = (projectId: string): string => `imports/${projectId}/`;

/** The index of a project's labelled evaluation set (which images, their labels and masks). */
export const evaluationSetKey = (projectId: string): string => `evaluation/${projectId}/set.json`;

/** Where one import's evaluation images and masks go (a new import replaces the set whole). */
export const evaluationImportPrefix = (projectId: string, importId: string): string =>
  `evaluation/${projectId}/${importId}/`;

/** Where a metric's archived points lie (service/sensors/point-archive.ts): one object per UTC day. */
export const seriesArchivePrefix = (projectId: string, metricId: string): string => `series/${projectId}/${metricId}/`;
/** The object of one UTC day (YYYY-MM-DD) of a metric's archived points. */
export const seriesArchiveKey = (projectId: string, metricId: string, day: string): string =>
  `${seriesArchivePrefix(projectId, metricId)}${day}.csv.gz`;
/** The UTC day of an archive object's key, or undefined for another key. */
export const seriesArchiveDay = (key: string): string | undefined => /\/(\d{4}-\d{2}-\d{2})\.csv\.gz$/.exec(key)?.[1];

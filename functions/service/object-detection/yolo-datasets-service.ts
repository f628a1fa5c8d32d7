import { createHash, randomUUID } from 'node:crypto';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from '../../engine/archive/safe-zip.ts';
import { FaultlineError } from '../../engine/errors.ts';
import {
  yoloDatasetReport,
  type YoloDatasetReport,
} from '../../engine/object-detection/dataset/yolo-dataset-report.ts';
import type { YoloDatasetRecord } from '../domain/yolo-dataset.ts';
import { ServiceError } from '../errors.ts';
import { yoloDatasetKeys } from '../object-keys.ts';
import type { Services } from '../services.ts';
import { requireKind } from '../uploaded-models/uploaded-models-service.ts';

/**
 * The limits of an uploaded dataset ZIP: the archive itself at most FAULTLINE_MAX_MODEL_BYTES (the API's body limit is
 * lower still); entries, sizes and compression ratios as the engine's defaults (images are listed, never inflated).
 */
export const yoloDatasetZipLimits = (s: Services): ZipLimits => ({
  ...DEFAULT_ZIP_LIMITS,
  maxArchiveBytes: s.config.FAULTLINE_MAX_MODEL_BYTES,
});

/**
 * Reads an uploaded YOLO dataset ZIP through the safe ZIP reader (limits, no traversal, no zip bombs: 413 or 422
 * naming the entry), reports its health (against the active model's class names when there is one, else data.yaml's),
 * and keeps the ZIP and the report. Nothing is kept unless the ZIP was read whole.
 */
export async function uploadYoloDataset(
  s: Services,
  projectId: string,
  zip: Uint8Array,
  name: string,
): Promise<YoloDatasetRecord> {
  const project = await requireKind(s, projectId, 'object-detection');
  const limits = yoloDatasetZipLimits(s);
  if (zip.byteLength > limits.maxArchiveBytes)
    throw new ServiceError(
      'PAYLOAD_TOO_LARGE',
      `the ZIP is ${zip.byteLength} bytes; at most ${limits.maxArchiveBytes}`,
      {
        max: limits.maxArchiveBytes,
      },
    );
  const active =
    project.activeModelVersion === null ? undefined : await s.uploadedModels.get(projectId, project.activeModelVersion);
  const classNames = active?.kind === 'object-detection' ? active.spec.classes : undefined;
  let report: YoloDatasetReport;
  try {
    report = await yoloDatasetReport(Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength), { limits, classNames });
  } catch (error) {
    // The engine calls a dataset without the layout DATASET_INVALID (a 500 for folders the service laid out itself);
    // here the caller sent it.
    if (error instanceof FaultlineError && error.code === 'DATASET_INVALID')
      throw new ServiceError('VALIDATION_FAILED', error.message, { reason: 'not a YOLO dataset' });
    throw error;
  }
  const datasetId = randomUUID();
  const keys = yoloDatasetKeys(projectId, datasetId);
  const record: YoloDatasetRecord = {
    datasetId,
    projectId,
    name,
    bytes: zip.byteLength,
    sha256: createHash('sha256').update(zip).digest('hex'),
    createdAt: new Date().toISOString(),
    zipKey: keys.zip,
    report,
  };
  await s.objects.put(keys.zip, zip, 'application/zip');
  await s.objects.put(keys.report, `${JSON.stringify(record, null, 2)}\n`, 'application/json');
  return record;
}

/** A stored dataset's record and health report. */
export async function getYoloDataset(s: Services, projectId: string, datasetId: string): Promise<YoloDatasetRecord> {
  await requireKind(s, projectId, 'object-detection');
  const bytes = await s.objects.get(yoloDatasetKeys(projectId, datasetId).report);
  if (!bytes)
    throw new ServiceError('NOT_FOUND', `project ${projectId} has no YOLO dataset ${datasetId}`, {
      projectId,
      datasetId,
    });
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as YoloDatasetRecord;
}

import { KINDS } from '../kinds/index.ts';
import { isStagedModelKey, modelStagingPrefix, newStagedModelKey } from '../object-keys.ts';
import { ServiceError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { UploadedModelVersion } from '../domain/uploaded-model.ts';
import { parseSpecJson, requireUploadKind, storeModelVersion } from './uploaded-models-service.ts';
import type { UploadedModelSupport } from './uploaded-model-support.ts';

/** The content type a staged model is uploaded with (the presigned POST's condition). */
export const STAGED_MODEL_CONTENT_TYPE = 'application/octet-stream';

/** Longest a registration may hold its staging key (a Lambda runs at most 15 minutes): a crashed one frees it then. */
const REGISTRATION_CLAIM_MS = 15 * 60_000;

export interface StagedModelUpload {
  key: string;
  url: string;
  fields: Record<string, string>;
  expiresIn: number;
  maxBytes: number;
}

/**
 * A presigned POST for a model too large for a request body (API Gateway and Lambda take about 6 MB): one staging
 * key of the project, at most the declared size (itself at most FAULTLINE_MAX_MODEL_BYTES), short-lived. The model
 * becomes a version only through registerStagedModel.
 */
export async function presignModelUpload(s: Services, projectId: string, size: number): Promise<StagedModelUpload> {
  await requireUploadKind(s, projectId);
  const max = s.config.FAULTLINE_MAX_MODEL_BYTES;
  if (size > max)
    throw new ServiceError('PAYLOAD_TOO_LARGE', `the model is ${size} bytes; at most ${max}`, { size, max });
  const key = newStagedModelKey(projectId);
  const expiresIn = s.config.FAULTLINE_PRESIGN_SECONDS;
  const post = await s.objects.presignPost(key, {
    contentType: STAGED_MODEL_CONTENT_TYPE,
    maxBytes: size,
    expiresSeconds: expiresIn,
  });
  return { key, ...post, expiresIn, maxBytes: size };
}

/**
 * Registers a model uploaded to a staging key: the key must be one of this project's, the spec valid for its kind,
 * the file at most FAULTLINE_MAX_MODEL_BYTES (it may have been put by any S3 client) and checked by running it once,
 * as a direct upload is. The staging object is deleted whether the model is kept or refused.
 */
export async function registerStagedModel(
  s: Services,
  projectId: string,
  key: string,
  specJson: unknown,
): Promise<UploadedModelVersion> {
  const project = await requireUploadKind(s, projectId);
  if (!isStagedModelKey(projectId, key))
    throw new ServiceError(
      'VALIDATION_FAILED',
      `${key} is not a staging key of project ${projectId} (keys under ${modelStagingPrefix(projectId)} that POST /api/v1/projects/${projectId}/models/upload-url gave)`,
      { key },
    );
  // Two registrations of one key at once would make two versions of one upload: exactly one takes the key.
  if (!(await s.uploadedModels.claimStaged(projectId, key, new Date(Date.now() + REGISTRATION_CLAIM_MS))))
    throw new ServiceError(
      'CONFLICT',
      `${key} is being registered by another request; its version is listed by GET /api/v1/projects/${projectId}/uploaded-models once that ends`,
      { key },
    );
  try {
    const spec = parseSpecJson(project.kind, specJson);
    const max = s.config.FAULTLINE_MAX_MODEL_BYTES;
    const head = await s.objects.head(key);
    if (!head)
      throw new ServiceError('NOT_FOUND', `nothing was uploaded to ${key} (or it was registered or refused already)`, {
        key,
      });
    if (head.size > max)
      throw new ServiceError('PAYLOAD_TOO_LARGE', `the model is ${head.size} bytes; at most ${max}`, {
        size: head.size,
        max,
      });
    const bytes = await s.objects.get(key);
    if (!bytes) throw new ServiceError('NOT_FOUND', `nothing was uploaded to ${key}`, { key });
    if (bytes.byteLength > max)
      throw new ServiceError('PAYLOAD_TOO_LARGE', `the model is ${bytes.byteLength} bytes; at most ${max}`, { max });
    const summary = await (KINDS[project.kind].uploadedModels as UploadedModelSupport).check(bytes, spec);
    return await storeModelVersion(s, project, {
      bytes,
      spec,
      summary,
      source: 'upload',
      jobId: null,
      evaluation: null,
    });
  } finally {
    await s.objects.delete(key);
    await s.uploadedModels.releaseStaged(projectId, key);
  }
}

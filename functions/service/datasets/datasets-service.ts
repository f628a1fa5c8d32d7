import { FaultlineError } from '../../engine/errors.ts';
import { inspectImage } from '../../engine/image/decode-image.ts';
import { ServiceError } from '../errors.ts';
import { datasetImageName, safeFileName, uniqueDatasetKey } from '../object-keys.ts';
import type { PresignedPost } from '../ports/object-store.ts';
import { commitToProject, requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import type { DatasetImage } from '../ports/image-store.ts';

export const ACCEPTED_CONTENT_TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/tiff',
  'image/bmp',
  'image/gif',
  'image/avif',
];

export interface UploadRequest {
  name: string;
  contentType: string;
  size: number;
}

/** Presigned POSTs for normal images: each for one key, its declared content type and at most its declared size, short-lived. */
export async function presignUploads(
  s: Services,
  projectId: string,
  files: UploadRequest[],
): Promise<{ name: string; key: string; url: string; fields: Record<string, string>; expiresIn: number }[]> {
  await requireProject(s, projectId);
  const max = s.config.FAULTLINE_MAX_IMAGE_BYTES;
  if (files.length > s.config.FAULTLINE_MAX_FILES)
    throw new ServiceError('TOO_MANY_FILES', `at most ${s.config.FAULTLINE_MAX_FILES} files per request`, {
      files: files.length,
    });
  for (const f of files) {
    if (f.size > max)
      throw new ServiceError('PAYLOAD_TOO_LARGE', `${f.name} is ${f.size} bytes; the limit is ${max}`, {
        name: f.name,
        size: f.size,
        max,
      });
    if (!ACCEPTED_CONTENT_TYPES.includes(f.contentType))
      throw new ServiceError(
        'UNSUPPORTED_MEDIA_TYPE',
        `${f.name}: ${f.contentType} is not accepted (use ${ACCEPTED_CONTENT_TYPES.join(', ')})`,
        { name: f.name },
      );
  }
  const expiresIn = s.config.FAULTLINE_PRESIGN_SECONDS;
  return Promise.all(
    files.map(async (f) => {
      const key = uniqueDatasetKey(projectId, f.name);
      const post: PresignedPost = await s.objects.presignPost(key, {
        contentType: f.contentType,
        maxBytes: f.size,
        expiresSeconds: expiresIn,
      });
      return { name: f.name, key, ...post, expiresIn };
    }),
  );
}

export interface UploadedFile {
  name: string;
  bytes: Uint8Array;
}

export interface UploadOutcome {
  accepted: { name: string; key: string; width: number; height: number }[];
  rejected: { name: string; code: string; message: string }[];
}

/** Checks and stores images sent in the request itself; bad ones are listed with why, the rest are kept. */
export async function uploadImages(s: Services, projectId: string, files: UploadedFile[]): Promise<UploadOutcome> {
  await requireProject(s, projectId);
  if (files.length === 0)
    throw new ServiceError('VALIDATION_FAILED', 'no files: send images as multipart/form-data fields named "files"');
  if (files.length > s.config.FAULTLINE_MAX_FILES)
    throw new ServiceError('TOO_MANY_FILES', `at most ${s.config.FAULTLINE_MAX_FILES} files per request`, {
      files: files.length,
    });
  const outcome: UploadOutcome = { accepted: [], rejected: [] };
  for (const file of files) {
    try {
      outcome.accepted.push({ name: file.name, ...(await storeTrainingImage(s, projectId, file)) });
    } catch (error) {
      if (!(error instanceof FaultlineError)) throw error;
      outcome.rejected.push({ name: file.name, code: error.code, message: error.message });
    }
  }
  return outcome;
}

/** Checks and stores one normal image as a training image of the project (an InvalidImageError when it is not one). */
export async function storeTrainingImage(
  s: Services,
  projectId: string,
  file: UploadedFile,
): Promise<{ key: string; width: number; height: number }> {
  const info = await inspectImage(file.bytes);
  const key = uniqueDatasetKey(projectId, file.name);
  await s.objects.put(key, file.bytes, `image/${info.format}`);
  // Registered here, so the count is right at once; the S3 event that follows finds it registered.
  await registerImage(s, projectId, {
    key,
    name: safeFileName(file.name),
    size: file.bytes.byteLength,
    width: info.width,
    height: info.height,
    format: info.format,
    uploadedAt: new Date().toISOString(),
  });
  return { key, width: info.width, height: info.height };
}

/** Records the image, then checks the project is still there (a deletion under way sweeps the record, see commitToProject). */
async function registerImage(s: Services, projectId: string, image: DatasetImage): Promise<boolean> {
  const added = await s.images.add(projectId, image);
  if (added) await s.projects.addToCount(projectId, 'imageCount', 1);
  await commitToProject(s, projectId);
  return added;
}

/**
 * An object arrived in datasets/{projectId}/ (S3 notification): registered when it is an image. One that is not is
 * left where it is (nothing a user uploaded is deleted) and logged.
 */
export async function registerDatasetObject(
  s: Services,
  projectId: string,
  key: string,
): Promise<'registered' | 'already' | 'rejected' | 'gone'> {
  if (!(await s.projects.get(projectId))) return 'gone';
  // Uploads through the API register their images themselves: no need to read the object again.
  if (await s.images.has(projectId, key)) return 'already';
  const bytes = await s.objects.get(key);
  if (!bytes) return 'gone'; // deleted since the event was sent
  try {
    const info = await inspectImage(bytes);
    const name = datasetImageName(key);
    const added = await registerImage(s, projectId, {
      key,
      name,
      size: bytes.byteLength,
      width: info.width,
      height: info.height,
      format: info.format,
      uploadedAt: new Date().toISOString(),
    });
    return added ? 'registered' : 'already';
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'PROJECT_NOT_FOUND') return 'gone';
    if (!(error instanceof FaultlineError)) throw error;
    s.log({
      level: 'warn',
      msg: 'dataset object is not a usable image; not registered',
      projectId,
      key,
      code: error.code,
      reason: error.message,
    });
    return 'rejected';
  }
}

export async function unregisterDatasetObject(s: Services, projectId: string, key: string): Promise<void> {
  if (await s.images.remove(projectId, key)) await s.projects.addToCount(projectId, 'imageCount', -1);
}

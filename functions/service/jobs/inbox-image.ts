import { ServiceError } from '../errors.ts';
import type { Services } from '../services.ts';

/**
 * The image a drop-folder job names, for every project kind: the API's size limit holds here too, checked from the
 * object's head before a byte is read; an object gone meanwhile is NOT_FOUND.
 */
export async function readInboxImage(s: Services, key: string): Promise<Uint8Array> {
  const head = await s.objects.head(key);
  if (!head) throw new ServiceError('NOT_FOUND', `the object ${key} no longer exists`, { key });
  const max = s.config.FAULTLINE_MAX_IMAGE_BYTES;
  if (head.size > max)
    throw new ServiceError(
      'PAYLOAD_TOO_LARGE',
      `the object ${key} is ${head.size} bytes; images may be at most ${max}`,
      { key, size: head.size, max },
    );
  const bytes = await s.objects.get(key);
  if (!bytes) throw new ServiceError('NOT_FOUND', `the object ${key} no longer exists`, { key });
  return bytes;
}

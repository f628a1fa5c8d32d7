import { ServiceError } from '../errors.ts';
import type { Services } from '../services.ts';

/**
 * The image a drop-folder job names, for every project kind, in one request: the API's size limit holds here too,
 * checked from the answer's length before a byte of the body is read; an object gone meanwhile is NOT_FOUND.
 */
export async function readInboxImage(s: Services, key: string): Promise<Uint8Array> {
  const max = s.config.FAULTLINE_MAX_IMAGE_BYTES;
  const found = await s.objects.getAtMost(key, max);
  if (!found) throw new ServiceError('NOT_FOUND', `the object ${key} no longer exists`, { key });
  if (!(found instanceof Uint8Array))
    throw new ServiceError(
      'PAYLOAD_TOO_LARGE',
      `the object ${key} is ${found.tooLarge} bytes; images may be at most ${max}`,
      { key, size: found.tooLarge, max },
    );
  return found;
}

import { z } from 'zod';
import { isCallersFault } from '../../service/errors.ts';

export const projectParams = z.object({ projectId: z.uuid().meta({ description: 'Project id' }) });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2000).optional().meta({ description: 'The cursor of the previous page' }),
});

/** Query and form booleans: true/false/1/0 only; anything else is an error, not a silent default. */
export const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const page = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ items: z.array(item), cursor: z.string().nullable() }).meta({ id });

/**
 * A batch route's answer: each image run in turn; an image that cannot be used gets an error entry, while what no
 * image can get past (a project without a usable model, of another kind, or a server fault) ends the request.
 */
export async function perImageResults(
  files: { filename: string; content: Uint8Array }[],
  run: (file: { filename: string; content: Uint8Array }) => Promise<Record<string, unknown>>,
): Promise<{ results: Record<string, unknown>[]; failed_count: number }> {
  const results: Record<string, unknown>[] = [];
  let failed = 0;
  for (const file of files) {
    try {
      results.push({ filename: file.filename, ...(await run(file)) });
    } catch (error) {
      const { code, message } = error as { code: string; message: string };
      if (!isCallersFault(error) || ['NO_ACTIVE_MODEL', 'MODEL_UNUSABLE', 'WRONG_PROJECT_KIND'].includes(code))
        throw error;
      failed++;
      results.push({ filename: file.filename, error: { code, message } });
    }
  }
  return { results, failed_count: failed };
}

import { z } from 'zod';

export const projectParams = z.object({ projectId: z.uuid().meta({ description: 'Project id' }) });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2000).optional().meta({ description: 'The cursor of the previous page' }),
});

/** Query and form booleans: true/false/1/0 only; anything else is an error, not a silent default. */
export const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const page = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ items: z.array(item), cursor: z.string().nullable() }).meta({ id });

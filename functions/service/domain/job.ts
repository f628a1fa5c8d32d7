import { z } from 'zod';
import { parseKey } from '../object-keys.ts';
import { ServiceError } from '../errors.ts';

export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export const jobStatusSchema = z.enum(JOB_STATUSES);
/** What a job does; every project kind says how it runs each one (functions/service/kinds/). */
export const jobTypeSchema = z.enum(['train', 'detect', 'update-bank', 'recalibrate']);

export const jobSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    type: jobTypeSchema,
    status: jobStatusSchema,
    attempts: z.number().int().meta({ description: 'Times a worker has started it' }),
    progress: z.object({ stage: z.string(), done: z.number(), total: z.number() }).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    /** train: the model version it makes; detect: the object it reads. */
    input: z.record(z.string(), z.unknown()),
    output: z.record(z.string(), z.unknown()).nullable(),
    redrives: z.number().int().optional().meta({ description: 'Times it was sent back from the dead-letter queue' }),
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Job' });

export type Job = z.infer<typeof jobSchema>;
export type JobStatus = z.infer<typeof jobStatusSchema>;
export type JobType = z.infer<typeof jobTypeSchema>;

/** What travels on the work queue besides S3 notifications. */
export const jobMessageSchema = z.object({ kind: z.literal('job'), jobId: z.string().min(1) });
export type JobMessage = z.infer<typeof jobMessageSchema>;

/** The idempotency key of the detection job for one version of an inbox object (as a notification names it). */
export const inboxJobKey = (bucket: string, key: string, version: string): string => `s3:${bucket}/${key}#${version}`;

/** The drop-folder object a detect job reads: its key, and its path under the project's inbox/ folder. */
export interface InboxObject {
  key: string;
  rest: string;
}

/** The object a detect job names, checked to be in its project's inbox/. */
export function inboxObjectOf(job: Pick<Job, 'projectId' | 'input'>): InboxObject {
  const key = String(job.input.key);
  const parsed = parseKey(key);
  if (!parsed || parsed.folder !== 'inbox' || parsed.projectId !== job.projectId)
    throw new ServiceError('VALIDATION_FAILED', `not an inbox object: ${key}`);
  return { key, rest: parsed.rest };
}

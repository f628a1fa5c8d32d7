import { z } from 'zod';

export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export const jobStatusSchema = z.enum(JOB_STATUSES);
export const jobTypeSchema = z.enum(['train', 'detect']);

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

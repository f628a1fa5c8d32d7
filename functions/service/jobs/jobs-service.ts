import { randomUUID } from 'node:crypto';
import type { Job, JobMessage, JobType } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import { canAccessProject, type Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import type { StoredJob } from '../store/job-repository.ts';

/**
 * Creates a job once per idempotency key and queues it. A retry (same key) returns the first job; a creation cut
 * short after claiming the key is completed by the retry, so a key never points to nothing for long.
 */
export async function createJob(
  s: Services,
  o: {
    id?: string;
    projectId: string;
    type: JobType;
    input: Record<string, unknown>;
    idempotencyKey?: string;
    enqueue?: boolean;
  },
): Promise<{ job: Job; created: boolean }> {
  let id: string = o.id ?? randomUUID();
  if (o.idempotencyKey) {
    const existing = await s.jobs.claimIdempotencyKey(o.idempotencyKey, id);
    if (existing) {
      const job = await s.jobs.get(existing);
      if (job) return { job, created: false };
      id = existing; // claimed, but the job was never written
    }
  }
  const job = await s.jobs.create({
    id,
    projectId: o.projectId,
    type: o.type,
    status: 'QUEUED',
    attempts: 0,
    progress: null,
    error: null,
    input: o.input,
    output: null,
    ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
  });
  if (o.enqueue !== false) await s.queue.send({ kind: 'job', jobId: job.id } satisfies JobMessage);
  s.log({ msg: 'job queued', jobId: job.id, type: job.type, projectId: job.projectId });
  return { job, created: true };
}

/** The job, if the caller may see its project (another's job reads as missing). */
export async function getJob(s: Services, id: string, by: Principal): Promise<Job> {
  const job = await s.jobs.get(id);
  const project = job ? await s.projects.get(job.projectId) : undefined;
  if (!job || !project || !canAccessProject(by, project))
    throw new ServiceError('JOB_NOT_FOUND', `no job ${id}`, { jobId: id });
  return publicJob(job);
}

/** A job as callers see it: without the worker holding it or the key it was made under. */
export const publicJob = ({ workerId, idempotencyKey, ...job }: StoredJob): Job => job;

/** Work that found its job no longer its own: another worker took it over, or its project was deleted. */
export class JobLostError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} is no longer this worker's (taken over, or its project deleted)`);
    this.name = 'JobLostError';
  }
}

import { randomUUID } from 'node:crypto';
import type { Job, JobMessage, JobType } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import { canAccessProject, type Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import type { StoredJob } from '../store/job-repository.ts';

/**
 * Creates a job once per idempotency key and queues it. A retry (same key) returns the first job; a creation cut
 * short after claiming the key is completed by the retry, so a key never points to nothing for long. With `startBy`
 * and an idempotency key (a worker that runs the job at once, so nothing is queued), a new job is stored RUNNING by
 * that worker together with its key, in one table request, and comes back with `started`; a key claimed already
 * takes the ordinary way.
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
    startBy?: string;
  },
): Promise<{ job: Job; created: boolean; started?: boolean }> {
  let id: string = o.id ?? randomUUID();
  const createdAt = new Date().toISOString();
  const fields = {
    projectId: o.projectId,
    type: o.type,
    progress: null,
    error: null,
    input: o.input,
    output: null,
    createdAt,
    finishedAt: null,
  };
  if (o.startBy && o.idempotencyKey) {
    const running = {
      id,
      ...fields,
      status: 'RUNNING' as const,
      attempts: 1,
      startedAt: createdAt,
      workerId: o.startBy,
      idempotencyKey: o.idempotencyKey,
    };
    if (await s.jobs.createRunning(running)) return { job: publicJob(running), created: true, started: true };
  }
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
    ...fields,
    status: 'QUEUED',
    attempts: 0,
    ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
    startedAt: null,
  });
  // A job its caller starts itself (startBy) is never queued: the caller's own message carries it.
  if (o.enqueue !== false && !o.startBy) await s.queue.send({ kind: 'job', jobId: job.id } satisfies JobMessage);
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

import { randomUUID } from 'node:crypto';
import type { Job, JobMessage, JobType } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import { canAccessProject, type Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';

/**
 * Creates a job once per idempotency key and queues it. A retry (same key) returns the first job; a creation cut
 * short after claiming the key is completed by the retry, so a key never points to nothing for long.
 */
export async function createJob(s: Services, o: { projectId: string; type: JobType; input: Record<string, unknown>; idempotencyKey?: string; enqueue?: boolean }): Promise<{ job: Job; created: boolean }> {
  let id: string = randomUUID();
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
  if (!job || !project || !canAccessProject(by, project)) throw new ServiceError('JOB_NOT_FOUND', `no job ${id}`, { jobId: id });
  const { workerId, ...rest } = job;
  return rest;
}

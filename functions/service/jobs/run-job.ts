import type { InboxObject, Job } from '../domain/job.ts';
import { isPermanent, ServiceError } from '../errors.ts';
import { jobRunner } from '../kinds/index.ts';
import type { EventType } from '../ports/event-publisher.ts';
import { commitToProject, requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import { JobLostError } from './jobs-service.ts';

/** Who runs a job, and on which delivery of its message. */
export interface JobAttempt {
  workerId: string;
  /** How many times the queue has handed the message out, this time included (1 outside a queue). */
  receiveCount: number;
}

/**
 * What the caller has done or read already, so that it is not done again: the job, when it was stored RUNNING by
 * this worker as it was made (createJob's startBy); the project; a detect job's inbox object.
 */
export interface KnownForJob {
  started?: Job;
  project?: ProjectItem;
  inbox?: InboxObject;
}

const errorOf = (error: unknown) => ({
  code: (error as { code?: string }).code ?? 'INTERNAL_ERROR',
  message: (error as Error)?.message ?? String(error),
});

/** Publishes a job's end; the project (for its webhook) is read only when the caller has not. */
export async function announceJobEnd(
  s: Services,
  job: Job,
  type: Extract<EventType, 'Job Succeeded' | 'Job Failed'>,
  detail: Record<string, unknown>,
  project?: ProjectItem,
): Promise<void> {
  if (type === 'Job Failed') s.metrics.record('JobsFailed', 1, { JobType: job.type });
  await s.events.publish(
    { type, projectId: job.projectId, detail: { jobId: job.id, jobType: job.type, ...detail } },
    project ?? (await s.projects.get(job.projectId)),
  );
}

/**
 * Runs a job to its end, unless it already ended, with the runner its project's kind has for its type. A permanent
 * error (isPermanent) ends it FAILED at once; any other is recorded and thrown, for the queue to deliver the message
 * again, until the last delivery (FAULTLINE_MAX_RECEIVES) ends the job FAILED too. A job that lost its project or its
 * worker stops quietly, its writes swept.
 */
export async function runJob(s: Services, jobId: string, attempt: JobAttempt, known: KnownForJob = {}): Promise<void> {
  const { workerId } = attempt;
  const job = known.started?.id === jobId ? known.started : await s.jobs.start(jobId, workerId);
  if (!job) return; // finished already (a repeated message), or unknown
  const started = performance.now();
  s.log({ msg: 'job started', jobId, type: job.type, attempt: job.attempts, workerId });
  // The first start only: a retry's wait would count the failed attempts as queueing.
  if (job.attempts <= 1)
    s.metrics.record('QueueWait', Math.max(0, Date.now() - Date.parse(job.createdAt)), { JobType: job.type });
  let lastProgress = 0;
  // A progress write is refused once the job is no longer this worker's (taken over, or its project deleted with
  // its jobs): the work stops at the next report instead of running to the end for nothing.
  let lost = false;
  const report = (stage: string, done: number, total: number) => {
    if (lost) throw new JobLostError(jobId);
    const now = Date.now();
    if (now - lastProgress < 1000 && done < total) return;
    lastProgress = now;
    void s.jobs.progress(jobId, workerId, { stage, done, total }).then(
      (ours) => void (lost ||= !ours),
      () => {},
    );
  };
  let project = known.project;
  try {
    project ??= await requireProject(s, job.projectId);
    const output = await jobRunner(project.kind, job.type)(s, { job, project, report, inbox: known.inbox });
    if (await s.jobs.succeed(jobId, workerId, output)) {
      const ms = Math.round(performance.now() - started);
      s.log({ msg: 'job succeeded', jobId, type: job.type, ms });
      if (job.type === 'train') s.metrics.record('TrainingTime', ms / 1000, {});
      await announceJobEnd(s, job, 'Job Succeeded', { output }, project);
    }
  } catch (error) {
    if (error instanceof JobLostError || (error instanceof ServiceError && error.code === 'PROJECT_NOT_FOUND')) {
      // Deletion wins: what the job wrote is swept, nothing is announced, and the message is done with.
      await commitToProject(s, job.projectId).then(
        () => s.log({ level: 'warn', msg: 'job lost to another worker', jobId }),
        () => s.log({ msg: 'job stopped: its project was deleted', jobId, projectId: job.projectId }),
      );
      return;
    }
    const reason = errorOf(error);
    if (isPermanent(error)) {
      if (await s.jobs.fail(jobId, reason)) await announceJobEnd(s, job, 'Job Failed', { error: reason }, project);
      s.log({ level: 'warn', msg: 'job failed', jobId, error: reason });
      return; // the message is done with: retrying cannot help
    }
    await s.jobs.recordAttemptError(jobId, workerId, reason);
    if (attempt.receiveCount >= s.config.FAULTLINE_MAX_RECEIVES) {
      const final = { code: reason.code, message: `gave up after ${attempt.receiveCount} attempts: ${reason.message}` };
      if (await s.jobs.fail(jobId, final)) await announceJobEnd(s, job, 'Job Failed', { error: final }, project);
    }
    throw error;
  }
}

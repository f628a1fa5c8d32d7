import { randomUUID } from 'node:crypto';
import { FaultlineError } from '../engine/errors.ts';
import { registerDatasetObject, unregisterDatasetObject } from '../service/datasets/datasets-service.ts';
import { runInboxDetection } from '../service/detection/detection-service.ts';
import type { Job } from '../service/domain/job.ts';
import { ServiceError } from '../service/errors.ts';
import { createJob, JobLostError } from '../service/jobs/jobs-service.ts';
import { commitToProject } from '../service/projects/projects-service.ts';
import { API_BATCH, decodeS3Key, inboxBatch, parseKey, rejectedKey } from '../service/object-keys.ts';
import type { QueueMessage } from '../service/ports/work-queue.ts';
import type { Services } from '../service/services.ts';
import { runTraining } from '../service/training/training-service.ts';
import { sweepDeadLetters } from './dead-letters.ts';
import { inboxJobKey, parseWorkMessage } from './work-message.ts';

export interface WorkerOptions {
  workerId?: string;
  /** Long-poll wait per receive. */
  waitSeconds?: number;
  /** How often the dead-letter queue is checked for jobs to mark FAILED. */
  deadLetterSweepSeconds?: number;
  /** Stop after this long without a message (a Batch worker scales back to zero); unset = run until stopped. */
  idleExitSeconds?: number;
}

/** An error that retrying cannot fix: the job fails at once with it. */
function isPermanent(error: unknown): boolean {
  if (error instanceof ServiceError) return error.status < 500;
  if (error instanceof FaultlineError) return error.code !== 'BACKBONE_DOWNLOAD_FAILED';
  return false;
}

const errorOf = (error: unknown) => ({
  code: (error as { code?: string }).code ?? 'INTERNAL_ERROR',
  message: (error as Error)?.message ?? String(error),
});

/**
 * Takes work from the queue: job messages (training) and S3 notifications (dataset images, drop-folder images).
 * A message is deleted only when its work is done or cannot succeed; otherwise it reappears after the visibility
 * timeout (which this worker keeps extending while it works) and is retried, up to the queue's receive limit, after
 * which the queue moves it to the dead-letter queue and the job is marked FAILED.
 */
export class Worker {
  readonly id: string;
  private running = false;
  private loop: Promise<void> | undefined;
  private lastSweep = 0;
  private readonly sweptMessages = new Set<string>();

  constructor(
    private readonly s: Services,
    private readonly options: WorkerOptions = {},
  ) {
    this.id = options.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops taking messages and waits for the current one. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Resolves when the loop has ended (stopped, or idle past idleExitSeconds). */
  async stopped(): Promise<void> {
    await this.loop;
  }

  /** Runs one job outside the queue (a Batch job given its id); true when it succeeded or had already ended well. */
  async runStandalone(jobId: string): Promise<boolean> {
    // Batch retries the container; after its last attempt the job-state rule marks the job FAILED.
    const message = { id: `standalone-${jobId}`, receiptHandle: '', body: '', receiveCount: 1 };
    try {
      await this.runJob(jobId, message);
    } catch {
      // recorded on the job by runJob
    }
    return (await this.s.jobs.get(jobId))?.status === 'SUCCEEDED';
  }

  private async run(): Promise<void> {
    const wait = this.options.waitSeconds ?? 5;
    let lastWork = Date.now();
    while (this.running) {
      try {
        await this.sweepDeadLetters();
        const messages = await this.s.queue.receive({ max: 1, waitSeconds: wait, visibilitySeconds: this.s.config.FAULTLINE_VISIBILITY_SECONDS });
        for (const message of messages) await this.handle(message);
        if (messages.length > 0) lastWork = Date.now();
        else if (this.options.idleExitSeconds && Date.now() - lastWork > this.options.idleExitSeconds * 1000) this.running = false;
      } catch (error) {
        // The queue or table unreachable: back off, keep the process alive.
        this.s.log({ level: 'error', msg: 'worker loop error', workerId: this.id, error: (error as Error).message });
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }

  /** Handles one message; exported for tests and for a Lambda-style consumer. */
  async handle(message: QueueMessage): Promise<void> {
    const work = parseWorkMessage(message.body);
    const heartbeat = this.keepInvisible(message);
    try {
      if (work.kind === 'job') await this.runJob(work.jobId, message);
      else if (work.kind === 's3') for (const r of work.records) await this.handleObjectEvent(r, message);
      else if (work.kind === 'unknown') this.s.log({ level: 'warn', msg: 'discarding a message the worker does not understand', reason: work.reason, body: message.body.slice(0, 200) });
      await this.s.queue.delete(message);
    } catch (error) {
      // Left on the queue: it comes back after the visibility timeout, or moves to the dead-letter queue.
      this.s.log({ level: 'warn', msg: 'message failed; it will be retried', messageId: message.id, receiveCount: message.receiveCount, error: (error as Error).message });
    } finally {
      clearInterval(heartbeat);
    }
  }

  private keepInvisible(message: QueueMessage): NodeJS.Timeout {
    const seconds = this.s.config.FAULTLINE_VISIBILITY_SECONDS;
    return setInterval(
      () => this.s.queue.extendVisibility(message, seconds).catch((e) => this.s.log({ level: 'warn', msg: 'could not extend visibility', error: (e as Error).message })),
      Math.max(1000, (seconds * 1000) / 3),
    );
  }

  private async handleObjectEvent(r: { event: string; bucket: string; key: string; version: string }, message: QueueMessage): Promise<void> {
    const key = decodeS3Key(r.key);
    const parsed = parseKey(key);
    if (!parsed) return; // not ours (results/, models/ or foreign keys)
    const created = r.event.startsWith('ObjectCreated');
    if (parsed.folder === 'datasets') {
      if (created) await registerDatasetObject(this.s, parsed.projectId, key);
      else if (r.event.startsWith('ObjectRemoved')) await unregisterDatasetObject(this.s, parsed.projectId, key);
      return;
    }
    if (parsed.folder !== 'inbox' || !created) return;
    const refusal = !(await this.s.projects.get(parsed.projectId))
      ? `there is no project ${parsed.projectId}`
      : inboxBatch(parsed.rest) === API_BATCH
        ? `the drop-folder folder "${API_BATCH}" is reserved for the API's own detections; use another folder name`
        : undefined;
    if (refusal) return this.setAside(key, parsed.projectId, parsed.rest, refusal);
    const { job } = await createJob(this.s, { projectId: parsed.projectId, type: 'detect', input: { key }, idempotencyKey: inboxJobKey(r.bucket, key, r.version), enqueue: false });
    await this.runJob(job.id, message);
  }

  /**
   * Moves a drop-folder object that will never be detected to rejected/ with the reason in its metadata, so that it
   * is neither lost nor queued again at every start.
   */
  private async setAside(key: string, projectId: string, rest: string, reason: string): Promise<void> {
    const to = rejectedKey(projectId, rest);
    const moved = await this.s.objects.move(key, to, { 'faultline-reason': reason.replace(/[^\x20-\x7e]/g, '?'), 'faultline-source': encodeURI(key) });
    this.s.log({ level: 'warn', msg: moved ? 'drop-folder object set aside' : 'drop-folder object refused, already gone', key, to: moved ? to : undefined, reason });
  }

  /** Runs a job to its end, unless it already ended; a permanent error ends it FAILED, others are retried. */
  async runJob(jobId: string, message: QueueMessage): Promise<void> {
    const job = await this.s.jobs.start(jobId, this.id);
    if (!job) return; // finished already (a repeated message), or unknown
    const started = performance.now();
    this.s.log({ msg: 'job started', jobId, type: job.type, attempt: job.attempts, workerId: this.id });
    let lastProgress = 0;
    // A progress write is refused once the job is no longer this worker's (taken over, or its project deleted with
    // its jobs): the work stops at the next report instead of running to the end for nothing.
    let lost = false;
    const report = (stage: string, done: number, total: number) => {
      if (lost) throw new JobLostError(jobId);
      const now = Date.now();
      if (now - lastProgress < 1000 && done < total) return;
      lastProgress = now;
      void this.s.jobs.progress(jobId, this.id, { stage, done, total }).then(
        (ours) => void (lost ||= !ours),
        () => {},
      );
    };
    try {
      const output = job.type === 'train' ? await runTraining(this.s, job, report) : await runInboxDetection(this.s, job);
      if (await this.s.jobs.succeed(jobId, this.id, output)) {
        this.s.log({ msg: 'job succeeded', jobId, type: job.type, ms: Math.round(performance.now() - started) });
        await this.announce(job, 'Job Succeeded', { output });
      }
    } catch (error) {
      if (error instanceof JobLostError || (error instanceof ServiceError && error.code === 'PROJECT_NOT_FOUND')) {
        // Deletion wins: what the job wrote is swept, nothing is announced, and the message is done with.
        await commitToProject(this.s, job.projectId).then(
          () => this.s.log({ level: 'warn', msg: 'job lost to another worker', jobId }),
          () => this.s.log({ msg: 'job stopped: its project was deleted', jobId, projectId: job.projectId }),
        );
        return;
      }
      const reason = errorOf(error);
      if (isPermanent(error)) {
        if (await this.s.jobs.fail(jobId, reason)) await this.announce(job, 'Job Failed', { error: reason });
        this.s.log({ level: 'warn', msg: 'job failed', jobId, error: reason });
        return; // the message is done with: retrying cannot help
      }
      await this.s.jobs.recordAttemptError(jobId, this.id, reason);
      if (message.receiveCount >= this.s.config.FAULTLINE_MAX_RECEIVES) {
        const final = { code: reason.code, message: `gave up after ${message.receiveCount} attempts: ${reason.message}` };
        if (await this.s.jobs.fail(jobId, final)) await this.announce(job, 'Job Failed', { error: final });
      }
      throw error;
    }
  }

  private async announce(job: Job, type: 'Job Succeeded' | 'Job Failed', detail: Record<string, unknown>): Promise<void> {
    const project = await this.s.projects.get(job.projectId);
    await this.s.events.publish(
      { type, projectId: job.projectId, detail: { jobId: job.id, jobType: job.type, ...detail } },
      project,
    );
  }

  /** Marks FAILED the unfinished jobs whose messages reached the dead-letter queue (see dead-letters.ts). */
  async sweepDeadLetters(): Promise<void> {
    const every = (this.options.deadLetterSweepSeconds ?? 30) * 1000;
    if (!this.s.deadLetters || Date.now() - this.lastSweep < every) return;
    this.lastSweep = Date.now();
    await sweepDeadLetters(this.s, (job, error) => this.announce(job, 'Job Failed', { error }), this.sweptMessages);
  }
}

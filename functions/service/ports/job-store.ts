import type { Job } from '../domain/job.ts';
import type { Page } from './page.ts';

/** A job as stored: the public fields, the worker holding it and the idempotency key it was made under. */
export type StoredJob = Job & { workerId?: string; idempotencyKey?: string };

/**
 * Jobs and their state machine, QUEUED -> RUNNING -> SUCCEEDED | FAILED, every step conditional so that two workers
 * never both finish one job. RUNNING -> RUNNING is a take-over (the first worker stopped extending its message).
 */
export interface JobStore {
  /** Records the idempotency key for a job; returns the job id already recorded under the key, if any. */
  claimIdempotencyKey(key: string, jobId: string): Promise<string | undefined>;
  findByIdempotencyKey(key: string): Promise<string | undefined>;
  /**
   * Claims the idempotency key and stores the job RUNNING by its worker, in one request: a job its taker starts at once
   * (a drop-folder image) costs one write instead of claim, create and start. False, with nothing written, when the
   * key is claimed already (or was being claimed at that moment): the caller then takes the ordinary way.
   */
  createRunning(job: StoredJob & { workerId: string; idempotencyKey: string }): Promise<boolean>;
  /** Stores the job unless it exists (a retried creation); returns the stored one. */
  create(job: StoredJob): Promise<StoredJob>;
  get(id: string): Promise<StoredJob | undefined>;
  /** Newest first. */
  listByProject(projectId: string, limit: number, cursor?: string): Promise<Page<StoredJob>>;
  /** Jobs of a project of this type that are not finished, newest first. */
  unfinished(projectId: string, type: Job['type']): Promise<Job[]>;
  /** Every unfinished job (the local runtime re-enqueues them at start: its queue is in memory). */
  allUnfinished(): Promise<Job[]>;
  /** QUEUED or RUNNING -> RUNNING by this worker; undefined when the job is finished (nothing to do). */
  start(id: string, workerId: string): Promise<Job | undefined>;
  /** Progress of a running job; false once another worker has taken it over or it finished. */
  progress(id: string, workerId: string, progress: NonNullable<Job['progress']>): Promise<boolean>;
  succeed(id: string, workerId: string, output: Record<string, unknown>): Promise<boolean>;
  /** Records the last error of an attempt; the job stays RUNNING so the queue can retry it. */
  recordAttemptError(id: string, workerId: string, error: { code: string; message: string }): Promise<boolean>;
  /** FAILED -> QUEUED for a redrive after a fix; false when the job is not FAILED. */
  retry(id: string): Promise<boolean>;
  /** -> FAILED from any unfinished state; false when it had finished. */
  fail(id: string, error: { code: string; message: string }): Promise<boolean>;
  /** Removes every job of the project and the idempotency keys they were made under; returns how many records went. */
  deleteAllOf(projectId: string): Promise<number>;
}

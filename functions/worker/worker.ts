import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { sweepDeadLetters } from '../service/jobs/dead-letters.ts';
import { takeObjectEvent } from '../service/jobs/drop-folder-intake.ts';
import { type JobAttempt, runJob } from '../service/jobs/run-job.ts';
import { parseWorkMessage, type WorkMessage } from '../service/jobs/work-message.ts';
import type { QueueMessage } from '../service/ports/work-queue.ts';
import type { Services } from '../service/services.ts';
import { withTelemetry } from '../service/telemetry/context.ts';
import { powertools } from '../service/adapters/powertools.ts';

export interface WorkerOptions {
  workerId?: string;
  /** Long-poll wait per receive. */
  waitSeconds?: number;
  /** How often the dead-letter queue is checked for jobs to mark FAILED. */
  deadLetterSweepSeconds?: number;
  /** Stop after this long without a message (a Batch worker scales back to zero); unset = run until stopped. */
  idleExitSeconds?: number;
  /** Messages worked on at once; default workerConcurrency(config). */
  concurrency?: number;
}

/**
 * Messages one worker works on at once, from FAULTLINE_WORKER_CONCURRENCY or the cores: while one image is on the
 * backbone (onnxruntime's own threads), the next ones are fetched and decoded and the previous ones' PNGs encoded and
 * stored, which are I/O and the event loop's work. Two per core (4 to 8): each image spends much of its time waiting
 * on the bucket and the table, so one per core left the cores idle (bench:drop on 2 cores, 300 images: 2 in flight
 * 10.5 images/s, 3 13.0, 4 12.6, 6 13.4; 8 9.6, queueing on the backbone).
 */
export const workerConcurrency = (configured: number | undefined): number =>
  configured ?? Math.min(8, Math.max(4, 2 * availableParallelism()));

/**
 * The queue's adapter: takes work messages (job messages, S3 notifications for dataset and drop-folder images) and
 * hands each to its use case in functions/service/jobs/ (run-job, drop-folder-intake; the retry policy lives there).
 * A message is deleted only when its work is done or cannot succeed; otherwise it reappears after the visibility
 * timeout (which this worker keeps extending while it works) and is retried, up to the queue's receive limit, after
 * which the queue moves it to the dead-letter queue, which this worker sweeps now and then.
 */
export class Worker {
  readonly id: string;
  private running = false;
  private loop: Promise<void> | undefined;
  private stopping = new AbortController();
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
    this.stopping = new AbortController();
    this.loop = this.run();
  }

  /** Stops taking messages and waits for those in hand. */
  async stop(): Promise<void> {
    this.running = false;
    // A long poll under way ends now rather than after its wait (2-5 s of every stop).
    this.stopping.abort();
    await this.loop;
  }

  /** Resolves when the loop has ended (stopped, or idle past idleExitSeconds). */
  async stopped(): Promise<void> {
    await this.loop;
  }

  /** Runs one job outside the queue (a Batch job given its id); true when it succeeded or had already ended well. */
  async runStandalone(jobId: string): Promise<boolean> {
    // Batch retries the container; after its last attempt the job-state rule marks the job FAILED.
    try {
      await runJob(this.s, jobId, { workerId: this.id, receiveCount: 1 });
    } catch {
      // recorded on the job by runJob
    }
    return (await this.s.jobs.get(jobId))?.status === 'SUCCEEDED';
  }

  private async run(): Promise<void> {
    const wait = this.options.waitSeconds ?? 5;
    const slots = this.options.concurrency ?? workerConcurrency(this.s.config.FAULTLINE_WORKER_CONCURRENCY);
    // Messages being worked on: each keeps its own visibility heartbeat and is deleted only when its work is done, so
    // a process killed with several in flight leaves each of them to be redelivered (their use cases are idempotent).
    const inFlight = new Set<Promise<void>>();
    let lastWork = Date.now();
    try {
      while (this.running) {
        if (inFlight.size >= slots) {
          await Promise.race(inFlight);
          continue;
        }
        try {
          await this.sweepDeadLetters();
          const messages = await this.s.queue.receive({
            max: Math.min(10, slots - inFlight.size), // SQS gives at most 10 a call
            // Work in hand: only a short poll, so a finished slot is refilled at once.
            waitSeconds: inFlight.size > 0 ? 0 : wait,
            visibilitySeconds: this.s.config.FAULTLINE_VISIBILITY_SECONDS,
            signal: this.stopping.signal,
          });
          for (const message of messages) {
            const work = this.handle(message).finally(() => inFlight.delete(work));
            inFlight.add(work);
          }
          if (messages.length > 0 || inFlight.size > 0) lastWork = Date.now();
          else if (this.options.idleExitSeconds && Date.now() - lastWork > this.options.idleExitSeconds * 1000)
            this.running = false;
          // Every slot busy or a short poll that found nothing: wait for one to finish rather than spin.
          if (messages.length === 0 && inFlight.size > 0) await Promise.race(inFlight);
        } catch (error) {
          if (!this.running) break; // the poll cut short by stop()
          // The queue or table unreachable: back off, keep the process alive.
          this.s.log({ level: 'error', msg: 'worker loop error', workerId: this.id, error: (error as Error).message });
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    } finally {
      // Stopping lets the messages in hand finish (SIGTERM on Batch gives two minutes).
      await Promise.all(inFlight);
    }
  }

  /** Handles one message: its work done (or refused for good) deletes it; a failure leaves it for the queue to redeliver. Public for tests. */
  async handle(message: QueueMessage): Promise<void> {
    // Debug sampling is decided per message, as Powertools does per Lambda invocation; work that came from a request
    // keeps its ids, other work (S3 notifications) is correlated by its message id.
    powertools().logger.refreshSampleRateCalculation();
    const { requestId, correlationId } = message.telemetry ?? {};
    return withTelemetry({ requestId, correlationId: correlationId ?? message.id }, () =>
      this.handleInContext(message),
    );
  }

  private async handleInContext(message: QueueMessage): Promise<void> {
    const work = parseWorkMessage(message.body);
    const heartbeat = this.keepInvisible(message);
    try {
      await this.perform(work, message, { workerId: this.id, receiveCount: message.receiveCount });
      await this.s.queue.delete(message);
    } catch (error) {
      // Left on the queue: it comes back after the visibility timeout, or moves to the dead-letter queue.
      this.s.log({
        level: 'warn',
        msg: 'message failed; it will be retried',
        messageId: message.id,
        receiveCount: message.receiveCount,
        error: (error as Error).message,
      });
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async perform(work: WorkMessage, message: QueueMessage, attempt: JobAttempt): Promise<void> {
    switch (work.kind) {
      case 'job':
        return runJob(this.s, work.jobId, attempt);
      case 's3':
        for (const r of work.records) await takeObjectEvent(this.s, r, attempt);
        return;
      case 'test':
        return; // S3's check that the notification reaches the queue
      case 'unknown':
        this.s.log({
          level: 'warn',
          msg: 'discarding a message the worker does not understand',
          reason: work.reason,
          body: message.body.slice(0, 200),
        });
        return;
      default:
        return work satisfies never;
    }
  }

  private keepInvisible(message: QueueMessage): NodeJS.Timeout {
    const seconds = this.s.config.FAULTLINE_VISIBILITY_SECONDS;
    return setInterval(
      () =>
        this.s.queue
          .extendVisibility(message, seconds)
          .catch((e) => this.s.log({ level: 'warn', msg: 'could not extend visibility', error: (e as Error).message })),
      Math.max(1000, (seconds * 1000) / 3),
    );
  }

  /** Every deadLetterSweepSeconds: marks FAILED the unfinished jobs whose messages reached the dead-letter queue. */
  private async sweepDeadLetters(): Promise<void> {
    const every = (this.options.deadLetterSweepSeconds ?? 30) * 1000;
    if (!this.s.deadLetters || Date.now() - this.lastSweep < every) return;
    this.lastSweep = Date.now();
    await sweepDeadLetters(this.s, this.sweptMessages);
  }
}

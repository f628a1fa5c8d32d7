import { randomUUID } from 'node:crypto';
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
}

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
    try {
      await runJob(this.s, jobId, { workerId: this.id, receiveCount: 1 });
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
        const messages = await this.s.queue.receive({
          max: 1,
          waitSeconds: wait,
          visibilitySeconds: this.s.config.FAULTLINE_VISIBILITY_SECONDS,
        });
        for (const message of messages) await this.handle(message);
        if (messages.length > 0) lastWork = Date.now();
        else if (this.options.idleExitSeconds && Date.now() - lastWork > this.options.idleExitSeconds * 1000)
          this.running = false;
      } catch (error) {
        // The queue or table unreachable: back off, keep the process alive.
        this.s.log({ level: 'error', msg: 'worker loop error', workerId: this.id, error: (error as Error).message });
        await new Promise((r) => setTimeout(r, 2000));
      }
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

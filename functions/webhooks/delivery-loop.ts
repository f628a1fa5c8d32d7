import type { Services } from '../service/services.ts';
import { handleWebhookMessage } from '../service/webhooks/webhook-deliveries-service.ts';

export interface DeliveryLoopOptions {
  /** Deliveries in flight at once: a few slow subscribers hold only their own lanes. */
  concurrency?: number;
  /** Long-poll wait per receive. */
  waitSeconds?: number;
  /** How long a received message stays hidden; longer than one attempt (WEBHOOK_TIMEOUT_MS) plus its recording. */
  visibilitySeconds?: number;
}

/**
 * The local runtime's webhook consumer (in AWS, the delivery function fed by the queue): its own loop on the webhook
 * queue, apart from the work-queue workers, so a subscriber that never answers delays no detection. A message is
 * deleted once its attempt is recorded (a failed attempt queues its own retry); if recording fails, it comes back
 * after the visibility timeout, and past the queue's receive limit it moves to the webhook dead-letter queue.
 */
export class WebhookDeliveryLoop {
  private running = false;
  private lanes: Promise<void>[] = [];
  private readonly abort = new AbortController();

  constructor(
    private readonly s: Services,
    private readonly options: DeliveryLoopOptions = {},
  ) {}

  start(): void {
    if (this.running || !this.s.webhookQueue) return;
    this.running = true;
    this.lanes = Array.from({ length: this.options.concurrency ?? 8 }, () => this.lane());
  }

  /** Stops receiving (a long poll under way is cut short) and aborts posts in flight (their messages are not deleted). */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.all(this.lanes);
  }

  private async lane(): Promise<void> {
    const queue = this.s.webhookQueue!;
    while (this.running) {
      try {
        const [message] = await queue.receive({
          max: 1,
          waitSeconds: this.options.waitSeconds ?? 2,
          visibilitySeconds: this.options.visibilitySeconds ?? 60,
          signal: this.abort.signal,
        });
        if (!message) continue;
        await handleWebhookMessage(this.s, message.body, this.abort.signal);
        await queue.delete(message);
      } catch (error) {
        if (!this.running) break;
        // The queue or the table unreachable: back off, keep the loop alive.
        this.s.log({ level: 'error', msg: 'webhook delivery loop error', error: (error as Error).message });
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }
}

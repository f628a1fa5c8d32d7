import { createHmac, randomUUID } from 'node:crypto';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { WebhookMessage } from '../domain/webhook-delivery.ts';
import type { Log } from '../log.ts';
import { webhookWants } from '../domain/events.ts';
import type { EventPublisher, FaultlineEvent, WebhookTarget } from '../ports/event-publisher.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import { correlationFields } from '../telemetry/context.ts';

export const EVENT_SOURCE = 'faultline';

/** The signature a webhook receiver checks: hex HMAC-SHA256 of the raw body with the project's secret. */
export const signWebhook = (body: string, secret: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * Queues the delivery of an event to the project's webhook: the body (with a stable event id subscribers deduplicate
 * by) is fixed now; the delivery consumer signs and posts it. A queue that cannot be reached loses the webhook, not
 * the work that caused it: logged, never thrown.
 */
async function queueWebhook(queue: WorkQueue | undefined, event: FaultlineEvent, log: Log): Promise<void> {
  if (!queue) {
    log({
      level: 'error',
      msg: 'webhook not sent: no webhook queue is configured (FAULTLINE_WEBHOOK_QUEUE_URL)',
      type: event.type,
      projectId: event.projectId,
    });
    return;
  }
  const eventId = event.id ?? randomUUID();
  const body = JSON.stringify({
    id: eventId,
    source: EVENT_SOURCE,
    'detail-type': event.type,
    time: new Date().toISOString(),
    projectId: event.projectId,
    detail: { ...correlationFields(), ...event.detail },
  });
  const message: WebhookMessage = {
    kind: 'webhook',
    projectId: event.projectId,
    eventId,
    eventType: event.type,
    body,
    attempt: 1,
  };
  try {
    await queue.send(message);
  } catch (error) {
    log({
      level: 'error',
      msg: 'webhook not queued',
      type: event.type,
      projectId: event.projectId,
      eventId,
      error: (error as Error).message,
    });
  }
}

/** Locally: one log line per event, and the project's webhook queued. */
export class LogEventPublisher implements EventPublisher {
  constructor(
    private readonly log: Log,
    private readonly webhooks?: WorkQueue,
  ) {}

  async publish(event: FaultlineEvent, project?: WebhookTarget): Promise<void> {
    this.log({
      level: 'info',
      msg: 'event',
      type: event.type,
      projectId: event.projectId,
      detail: { ...correlationFields(), ...event.detail },
    });
    if (webhookWants(project, event.type)) await queueWebhook(this.webhooks, event, this.log);
  }
}

/** An event's detail on the bus: the project id beside the service's detail, and the stable event id when it has one. */
export const busDetail = (event: FaultlineEvent): Record<string, unknown> => ({
  projectId: event.projectId,
  ...correlationFields(),
  ...event.detail,
  ...(event.id ? { eventId: event.id } : {}),
});

/** In AWS: the event bus (rules route it on), and the project's webhook queued. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly log: Log,
    private readonly webhooks?: WorkQueue,
  ) {}

  async publish(event: FaultlineEvent, project?: WebhookTarget): Promise<void> {
    const out = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: event.type,
            Detail: JSON.stringify(busDetail(event)),
          },
        ],
      }),
    );
    if (out.FailedEntryCount)
      this.log({ level: 'error', msg: 'event not accepted by EventBridge', type: event.type, entries: out.Entries });
    if (webhookWants(project, event.type)) await queueWebhook(this.webhooks, event, this.log);
  }
}

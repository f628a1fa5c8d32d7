import { createHmac } from 'node:crypto';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventPublisher, FaultlineEvent, WebhookTarget } from '../ports/event-publisher.ts';

export const EVENT_SOURCE = 'faultline';

/** The signature a webhook receiver checks: hex HMAC-SHA256 of the raw body with the project's secret. */
export const signWebhook = (body: string, secret: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Posts the event to a project's webhook, signed; a failing webhook is logged, never fails the work. */
async function postWebhook(event: FaultlineEvent, target: WebhookTarget, log: (line: Record<string, unknown>) => void): Promise<void> {
  const body = JSON.stringify({ source: EVENT_SOURCE, 'detail-type': event.type, time: new Date().toISOString(), projectId: event.projectId, detail: event.detail });
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-faultline-signature': signWebhook(body, target.secret), 'x-faultline-event': event.type },
      body,
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) log({ level: 'warn', msg: 'webhook answered with an error', url: target.url, status: response.status });
  } catch (error) {
    log({ level: 'warn', msg: 'webhook failed', url: target.url, error: (error as Error).message });
  }
}

/** Locally: one log line per event, and the project's webhook. */
export class LogEventPublisher implements EventPublisher {
  constructor(private readonly log: (line: Record<string, unknown>) => void) {}

  async publish(event: FaultlineEvent, webhook?: WebhookTarget): Promise<void> {
    this.log({ level: 'info', msg: 'event', type: event.type, projectId: event.projectId, detail: event.detail });
    if (webhook) await postWebhook(event, webhook, this.log);
  }
}

/** In AWS: the event bus (rules route it on), and the project's webhook. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly log: (line: Record<string, unknown>) => void,
  ) {}

  async publish(event: FaultlineEvent, webhook?: WebhookTarget): Promise<void> {
    const out = await this.client.send(
      new PutEventsCommand({ Entries: [{ EventBusName: this.busName, Source: EVENT_SOURCE, DetailType: event.type, Detail: JSON.stringify({ projectId: event.projectId, ...event.detail }) }] }),
    );
    if (out.FailedEntryCount) this.log({ level: 'error', msg: 'event not accepted by EventBridge', type: event.type, entries: out.Entries });
    if (webhook) await postWebhook(event, webhook, this.log);
  }
}

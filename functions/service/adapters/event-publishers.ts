import { createHmac } from 'node:crypto';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventPublisher, FaultlineEvent, WebhookTarget } from '../ports/event-publisher.ts';
import { loggableUrl, postJson } from './webhook-sender.ts';

export const EVENT_SOURCE = 'faultline';

/** The signature a webhook receiver checks: hex HMAC-SHA256 of the raw body with the project's secret. */
export const signWebhook = (body: string, secret: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export interface WebhookPolicy {
  /** Whether webhooks may go to loopback and private networks (locally yes; in AWS no). */
  allowPrivate: boolean;
}

/** Posts the event to a project's webhook, signed; a failing webhook is logged (without the URL's query), never fails the work. */
async function postWebhook(event: FaultlineEvent, target: WebhookTarget, log: (line: Record<string, unknown>) => void, policy: WebhookPolicy): Promise<void> {
  const body = JSON.stringify({ source: EVENT_SOURCE, 'detail-type': event.type, time: new Date().toISOString(), projectId: event.projectId, detail: event.detail });
  try {
    const status = await postJson(target.url, body, { 'content-type': 'application/json', 'x-faultline-signature': signWebhook(body, target.secret), 'x-faultline-event': event.type }, { allowPrivate: policy.allowPrivate, timeoutMs: 5000 });
    if (status < 200 || status >= 300) log({ level: 'warn', msg: 'webhook answered with an error', url: loggableUrl(target.url), status });
  } catch (error) {
    log({ level: 'warn', msg: 'webhook failed', url: loggableUrl(target.url), error: (error as Error).message });
  }
}

/** Locally: one log line per event, and the project's webhook. */
export class LogEventPublisher implements EventPublisher {
  constructor(
    private readonly log: (line: Record<string, unknown>) => void,
    private readonly policy: WebhookPolicy = { allowPrivate: true },
  ) {}

  async publish(event: FaultlineEvent, webhook?: WebhookTarget): Promise<void> {
    this.log({ level: 'info', msg: 'event', type: event.type, projectId: event.projectId, detail: event.detail });
    if (webhook) await postWebhook(event, webhook, this.log, this.policy);
  }
}

/** In AWS: the event bus (rules route it on), and the project's webhook. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly log: (line: Record<string, unknown>) => void,
    private readonly policy: WebhookPolicy = { allowPrivate: false },
  ) {}

  async publish(event: FaultlineEvent, webhook?: WebhookTarget): Promise<void> {
    const out = await this.client.send(
      new PutEventsCommand({ Entries: [{ EventBusName: this.busName, Source: EVENT_SOURCE, DetailType: event.type, Detail: JSON.stringify({ projectId: event.projectId, ...event.detail }) }] }),
    );
    if (out.FailedEntryCount) this.log({ level: 'error', msg: 'event not accepted by EventBridge', type: event.type, entries: out.Entries });
    if (webhook) await postWebhook(event, webhook, this.log, this.policy);
  }
}

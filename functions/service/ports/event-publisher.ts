import type { EventType } from '../domain/events.ts';

export type { EventType } from '../domain/events.ts';

/** Tells other systems what happened: EventBridge in AWS, a log line locally; and the project's webhook, through its queue. */

export interface FaultlineEvent {
  type: EventType;
  /** A stable id, for an event that may be published more than once (at least once): subscribers drop repeats by it. */
  id?: string;
  projectId: string;
  detail: Record<string, unknown>;
}

export interface EventPublisher {
  /**
   * Publishes the event; when the project has a webhook, queues its delivery. Returns once queued: the webhook is
   * called by the delivery consumer, never on the caller's path (a slow subscriber must not hold a request or a worker).
   */
  publish(event: FaultlineEvent, project?: WebhookTarget): Promise<void>;
}

/** What a publisher needs of the project to decide on its webhook (domain/events.ts webhookWants). */
export interface WebhookTarget {
  webhookUrl: string | null;
  webhookEvents?: readonly EventType[];
}

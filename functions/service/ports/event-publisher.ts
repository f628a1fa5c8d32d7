/** Tells other systems what happened: EventBridge in AWS; locally a log line and the project's webhook. */
export type EventType = 'Detection Completed' | 'Job Succeeded' | 'Job Failed' | 'Model Activated';

export interface FaultlineEvent {
  type: EventType;
  projectId: string;
  detail: Record<string, unknown>;
}

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface EventPublisher {
  publish(event: FaultlineEvent, webhook?: WebhookTarget): Promise<void>;
}

import type { WebhookDelivery } from '../domain/webhook-delivery.ts';
import type { Page } from './page.ts';

/** The webhook delivery log: one record per attempt, kept for a while and deleted with the project. */
export interface WebhookDeliveryStore {
  record(projectId: string, delivery: WebhookDelivery): Promise<void>;
  /** Newest attempt first. */
  list(projectId: string, limit: number, cursor?: string): Promise<Page<WebhookDelivery>>;
}

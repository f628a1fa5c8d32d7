import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { WebhookDelivery } from '../domain/webhook-delivery.ts';
import type { WebhookDeliveryStore } from '../ports/webhook-delivery-store.ts';
import { keys, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

/** The webhook delivery log: one item per attempt, under the project (deleted with it), expiring by the table's TTL. */
export class WebhookDeliveryRepository extends TableRepository implements WebhookDeliveryStore {
  /** Days before the table's TTL removes an attempt. */
  retentionDays = 30;

  async record(projectId: string, delivery: WebhookDelivery): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...keys.webhookDelivery(projectId, delivery.attemptedAt, delivery.eventId, delivery.attempt),
          expiresAt: Math.floor(Date.parse(delivery.attemptedAt) / 1000) + this.retentionDays * 86_400,
          ...delivery,
        },
      }),
    );
  }

  /** Newest attempt first. */
  async list(
    projectId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: WebhookDelivery[]; cursor: string | null }> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :w)',
        ExpressionAttributeValues: { ':p': keys.project(projectId).pk, ':w': 'WEBHOOK#' },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: this.pages.decode(`webhook-deliveries:${projectId}`, cursor),
      }),
    );
    return {
      items: (out.Items ?? []).map((item) => stripKeys<WebhookDelivery>(item, 'expiresAt')),
      cursor: this.pages.encode(`webhook-deliveries:${projectId}`, out.LastEvaluatedKey),
    };
  }
}

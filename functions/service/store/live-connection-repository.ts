import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Subscription } from '../live/live-messages.ts';
import type { LiveConnectionRecord, LiveConnectionStore, LiveSubscriber } from '../ports/live-connection-store.ts';
import { deleteItems, keys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * Connections and subscriptions of the WebSocket API: the connection's item holds the set of its subscription keys
 * (the limit is a condition on its size), each subscription is an item of its own under the connection, indexed by
 * project (gsi1) for the fan-out.
 */
export class LiveConnectionRepository extends TableRepository implements LiveConnectionStore {
  async connect(c: LiveConnectionRecord, expiresAt: Date): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...keys.liveConnection(c.connectionId), ...c, expiresAt: seconds(expiresAt) },
      }),
    );
  }

  async getConnection(connectionId: string): Promise<LiveConnectionRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.liveConnection(connectionId), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { connectionId: id, principal, connectedAt } = out.Item as LiveConnectionRecord;
    return { connectionId: id, principal, connectedAt };
  }

  async subscribe(
    connectionId: string,
    key: string,
    subscription: Subscription,
    max: number,
  ): Promise<'added' | 'full' | 'gone'> {
    const added = await this.updateIf(keys.liveConnection(connectionId), {
      UpdateExpression: 'ADD #keys :key',
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(#keys) OR contains(#keys, :one) OR size(#keys) < :max)',
      ExpressionAttributeNames: { '#keys': 'subscriptionKeys' },
      ExpressionAttributeValues: { ':key': new Set([key]), ':one': key, ':max': max },
    });
    if (!added) return (await this.getConnection(connectionId)) ? 'full' : 'gone';
    const connection = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.liveConnection(connectionId), ConsistentRead: true }),
    );
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...keys.liveSubscription(connectionId, key),
          gsi1pk: `LIVE#PROJECT#${subscription.projectId}`,
          gsi1sk: `${connectionId}#${key}`,
          connectionId,
          subscription,
          // Goes with its connection (and by the same TTL when no $disconnect comes).
          expiresAt: connection.Item?.expiresAt,
        },
      }),
    );
    return 'added';
  }

  async unsubscribe(connectionId: string, key: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.liveSubscription(connectionId, key) }));
    await this.updateIf(keys.liveConnection(connectionId), {
      UpdateExpression: 'DELETE #keys :key',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#keys': 'subscriptionKeys' },
      ExpressionAttributeValues: { ':key': new Set([key]) },
    });
  }

  async disconnect(connectionId: string): Promise<void> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': keys.liveConnection(connectionId).pk },
      ProjectionExpression: 'pk, sk',
    });
    // Subscriptions first, the connection last: a repeated disconnect finishes what a failed one left.
    const subs = (items as { pk: string; sk: string }[]).filter((k) => k.sk !== keys.liveConnection(connectionId).sk);
    await deleteItems(this.db, this.table, subs);
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.liveConnection(connectionId) }));
  }

  async subscribersOf(projectId: string): Promise<LiveSubscriber[]> {
    const out: LiveSubscriber[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': `LIVE#PROJECT#${projectId}` },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? [])
        out.push({ connectionId: item.connectionId as string, subscription: item.subscription as Subscription });
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

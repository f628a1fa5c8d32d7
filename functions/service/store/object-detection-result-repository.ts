import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ObjectDetectionRecord } from '../domain/object-detection-record.ts';
import type { ObjectDetectionResultStore } from '../ports/object-detection-result-store.ts';
import { keys, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

const toRecord = (item: Record<string, unknown>): ObjectDetectionRecord =>
  stripKeys<ObjectDetectionRecord>(item, 'expiresAt');

export class ObjectDetectionResultRepository extends TableRepository implements ObjectDetectionResultStore {
  /** Days before the table's TTL removes a result; 0 keeps results. */
  retentionDays = 0;

  async put(record: ObjectDetectionRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...keys.objectDetection(record.projectId, record.id),
          ...(this.retentionDays > 0
            ? { expiresAt: Math.floor(Date.parse(record.createdAt) / 1000) + this.retentionDays * 86_400 }
            : {}),
          ...record,
        },
      }),
    );
  }

  async list(
    projectId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: ObjectDetectionRecord[]; cursor: string | null }> {
    const prefix = keys.objectDetection(projectId, '').sk;
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :c)',
        ExpressionAttributeValues: { ':p': keys.project(projectId).pk, ':c': prefix },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: this.pages.decode(`object-detections:${projectId}`, cursor),
      }),
    );
    return {
      items: (out.Items ?? []).map(toRecord),
      cursor: this.pages.encode(`object-detections:${projectId}`, out.LastEvaluatedKey),
    };
  }

  async get(projectId: string, id: string): Promise<ObjectDetectionRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.objectDetection(projectId, id) }));
    return out.Item ? toRecord(out.Item) : undefined;
  }
}

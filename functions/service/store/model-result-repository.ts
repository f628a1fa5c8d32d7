import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ClassificationRecord } from '../domain/classification-record.ts';
import type { ObjectDetectionRecord } from '../domain/object-detection-record.ts';
import type { ModelResultStore } from '../ports/model-result-store.ts';
import type { PageCursors } from './page-cursor.ts';
import { keys, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

type Key = { pk: string; sk: string };

/**
 * One kind of uploaded-model result in the table, under its project (`key` gives its sort key; its page cursors are
 * bound to `scope` and the project), kept `retentionDays` by the table's TTL.
 */
export class ModelResultRepository<R extends { projectId: string; id: string; createdAt: string }>
  extends TableRepository
  implements ModelResultStore<R>
{
  /** Days before the table's TTL removes a result; 0 keeps results. */
  retentionDays = 0;

  constructor(
    db: DynamoDBDocumentClient,
    table: string,
    cursors: PageCursors,
    private readonly key: (projectId: string, id: string) => Key,
    private readonly scope: string,
  ) {
    super(db, table, cursors);
  }

  async put(record: R): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...this.key(record.projectId, record.id),
          ...(this.retentionDays > 0
            ? { expiresAt: Math.floor(Date.parse(record.createdAt) / 1000) + this.retentionDays * 86_400 }
            : {}),
          ...record,
        },
      }),
    );
  }

  async list(projectId: string, limit: number, cursor?: string): Promise<{ items: R[]; cursor: string | null }> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :c)',
        ExpressionAttributeValues: { ':p': keys.project(projectId).pk, ':c': this.key(projectId, '').sk },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: this.pages.decode(`${this.scope}:${projectId}`, cursor),
      }),
    );
    return {
      items: (out.Items ?? []).map((item) => stripKeys<R>(item, 'expiresAt')),
      cursor: this.pages.encode(`${this.scope}:${projectId}`, out.LastEvaluatedKey),
    };
  }

  async get(projectId: string, id: string): Promise<R | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: this.key(projectId, id) }));
    return out.Item ? stripKeys<R>(out.Item, 'expiresAt') : undefined;
  }
}

/** Classifications (classification projects). */
export const classificationResultRepository = (db: DynamoDBDocumentClient, table: string, cursors: PageCursors) =>
  new ModelResultRepository<ClassificationRecord>(db, table, cursors, keys.classification, 'classifications');

/** Object detections (object-detection projects). */
export const objectDetectionResultRepository = (db: DynamoDBDocumentClient, table: string, cursors: PageCursors) =>
  new ModelResultRepository<ObjectDetectionRecord>(db, table, cursors, keys.objectDetection, 'object-detections');

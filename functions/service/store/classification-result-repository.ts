import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ClassificationRecord } from '../domain/classification-record.ts';
import type { ClassificationResultStore } from '../ports/classification-result-store.ts';
import { keys, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

const toRecord = (item: Record<string, unknown>): ClassificationRecord =>
  stripKeys<ClassificationRecord>(item, 'expiresAt');

export class ClassificationResultRepository extends TableRepository implements ClassificationResultStore {
  /** Days before the table's TTL removes a result; 0 keeps results. */
  retentionDays = 0;

  async put(record: ClassificationRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...keys.classification(record.projectId, record.id),
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
  ): Promise<{ items: ClassificationRecord[]; cursor: string | null }> {
    const prefix = keys.classification(projectId, '').sk;
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :c)',
        ExpressionAttributeValues: { ':p': keys.project(projectId).pk, ':c': prefix },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: this.pages.decode(`classifications:${projectId}`, cursor),
      }),
    );
    return {
      items: (out.Items ?? []).map(toRecord),
      cursor: this.pages.encode(`classifications:${projectId}`, out.LastEvaluatedKey),
    };
  }

  async get(projectId: string, id: string): Promise<ClassificationRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.classification(projectId, id) }));
    return out.Item ? toRecord(out.Item) : undefined;
  }
}

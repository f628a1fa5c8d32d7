import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DetectionRecord } from '../domain/detection-record.ts';
import { REVIEW_VERDICTS } from '../domain/review.ts';
import type { ResultFilter, ResultStore } from '../ports/result-store.ts';
import { cancellationReasons, isConditionFailure, keys, resultId, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

export type { ResultFilter } from '../ports/result-store.ts';

export const toRecord = (item: Record<string, unknown>): DetectionRecord => {
  const record = stripKeys<DetectionRecord & { visualisationKeys?: DetectionRecord['visualizationKeys'] }>(
    item,
    'anomalous',
    'expiresAt',
  );
  // Records stored before the one spelling (2026-12-02) carry `visualisationKeys`: read as the API spells it.
  if (record.visualisationKeys !== undefined) {
    const { visualisationKeys, ...rest } = record;
    return { ...rest, visualizationKeys: rest.visualizationKeys ?? visualisationKeys };
  }
  return record;
};

/** The query's filter: anomalous only, and the review state (none, any, or one verdict). */
function filterExpression(filter: ResultFilter): string | undefined {
  const parts: string[] = [];
  if (filter.anomalousOnly) parts.push('anomalous = :t');
  if (filter.review === 'unreviewed') parts.push('attribute_not_exists(#review)');
  else if (filter.review === 'reviewed') parts.push('attribute_exists(#review)');
  else if (filter.review) parts.push('#review.verdict = :verdict');
  return parts.length > 0 ? parts.join(' AND ') : undefined;
}

const NOT_REVIEWED = 'attribute_not_exists(#review)';

export class ResultRepository extends TableRepository implements ResultStore {
  /** Days before the table's TTL removes a result; 0 keeps results. */
  retentionDays = 0;

  /** The table item of a record: its keys, its batch index and its TTL beside the record's fields. */
  private item(record: DetectionRecord): Record<string, unknown> {
    return {
      ...keys.result(record.projectId, record.id),
      gsi1pk: `BATCH#${record.projectId}#${record.batchId}`,
      gsi1sk: record.id,
      anomalous: record.result.is_anomalous,
      ...(this.retentionDays > 0
        ? { expiresAt: Math.floor(Date.parse(record.createdAt) / 1000) + this.retentionDays * 86_400 }
        : {}),
      ...record,
    };
  }

  /** Idempotent: a retried job repeats the record's id (made from the job), so it overwrites, never duplicates. */
  async put(record: DetectionRecord): Promise<void> {
    // A retry never replaces a result a person has reviewed meanwhile (its review would be lost): that result was made
    // from the same object by the same job, so it stays as it is.
    await this.db
      .send(
        new PutCommand({
          TableName: this.table,
          Item: this.item(record),
          ConditionExpression: NOT_REVIEWED,
          ExpressionAttributeNames: { '#review': 'review' },
        }),
      )
      .catch((error) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  /**
   * put(), in one request (TransactWriteItems) with a check that the project exists and is not being deleted: a
   * deletion's mark (an update of the project item) lands either before it, and nothing is written, or after it, and
   * the deletion's sweep finds the result. False when the project is gone; a reviewed result is kept as put() keeps it.
   */
  async putIfProjectLive(record: DetectionRecord): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.table,
                Key: keys.project(record.projectId),
                ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletingAt)',
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: this.item(record),
                ConditionExpression: NOT_REVIEWED,
                ExpressionAttributeNames: { '#review': 'review' },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons?.[0] === 'ConditionalCheckFailed') return false;
      if (reasons?.[1] === 'ConditionalCheckFailed') return true; // reviewed meanwhile: kept, the project is live
      throw error;
    }
  }

  /** Newest first; a filtered page is filled (see TableRepository.queryPage). */
  async list(
    projectId: string,
    filter: ResultFilter,
    limit: number,
    cursor?: string,
  ): Promise<{ items: DetectionRecord[]; cursor: string | null }> {
    // Normalised to milliseconds, so that a 'since' without them compares right against ids that have them.
    const since = filter.since ? `RESULT#${resultId(new Date(filter.since).toISOString(), '')}` : 'RESULT#';
    const page = await this.queryPage(
      {
        KeyConditionExpression: filter.since
          ? 'pk = :p AND sk BETWEEN :from AND :to'
          : 'pk = :p AND begins_with(sk, :from)',
        FilterExpression: filterExpression(filter),
        ...(filter.review ? { ExpressionAttributeNames: { '#review': 'review' } } : {}),
        ExpressionAttributeValues: {
          ':p': keys.project(projectId).pk,
          ':from': since,
          ...(filter.since ? { ':to': 'RESULT#\uffff' } : {}),
          ...(filter.anomalousOnly ? { ':t': true } : {}),
          ...(filter.review && (REVIEW_VERDICTS as readonly string[]).includes(filter.review)
            ? { ':verdict': filter.review }
            : {}),
        },
        ScanIndexForward: false,
      },
      `results:${projectId}`,
      limit,
      cursor,
    );
    return { items: page.items.map(toRecord), cursor: page.cursor };
  }

  async get(projectId: string, id: string): Promise<DetectionRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.result(projectId, id) }));
    return out.Item ? toRecord(out.Item) : undefined;
  }

  /** Every result of one batch (drop-folder sub-folder), for its summary. */
  async batch(projectId: string, batchId: string): Promise<DetectionRecord[]> {
    const items = await this.queryAll({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :b',
      ExpressionAttributeValues: { ':b': `BATCH#${projectId}#${batchId}` },
    });
    return items.map(toRecord);
  }
}

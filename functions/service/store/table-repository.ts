import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './table-definition.ts';
import type { PageCursors } from './page-cursor.ts';

/** A repository's handle on the table. */
export abstract class TableRepository {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly table: string,
    /** Signs and checks the page cursors this repository gives out. */
    protected readonly cursors?: PageCursors,
  ) {}

  protected get pages(): PageCursors {
    if (!this.cursors) throw new Error(`${this.constructor.name} pages, but was made without page cursors`);
    return this.cursors;
  }

  /** Every item a query matches, page after page. */
  protected async queryAll(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({ ...input, TableName: this.table, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** A conditional update of one item: false when its condition does not hold (another writer got there first). */
  protected async updateIf(
    key: { pk: string; sk: string },
    update: Pick<
      UpdateCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.table, Key: key, ...update }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './table-definition.ts';
import type { PageCursors } from './page-cursor.ts';

/** Items one filtered page reads at most before it answers with what it has and a cursor. */
export const MAX_ITEMS_READ_PER_PAGE = 5_000;
const READ_CHUNK = 1_000;

/** The key DynamoDB resumes a query after: the table's, plus the index's when the query reads one. */
function keyOf(item: Record<string, unknown>, index: string | undefined): Record<string, unknown> {
  const key: Record<string, unknown> = { pk: item.pk, sk: item.sk };
  if (index) {
    key[`${index}pk`] = item[`${index}pk`];
    key[`${index}sk`] = item[`${index}sk`];
  }
  return key;
}

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

  /**
   * One page of a filtered query, filled: DynamoDB applies a FilterExpression after `Limit`, so a single read of a
   * sparse filter answers a short (even empty) page with a cursor. This reads on until `limit` items match, cutting the
   * page at its last item so the cursor resumes right after it. The cost is bounded: after MAX_ITEMS_READ_PER_PAGE
   * items read the page is answered as it is, with a cursor (so a client still gets an answer in bounded time).
   * `keep` filters on what DynamoDB cannot express (e.g. projects being deleted).
   */
  protected async queryPage(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>,
    listing: string,
    limit: number,
    cursor: string | undefined,
    keep?: (item: Record<string, unknown>) => boolean,
  ): Promise<{ items: Record<string, unknown>[]; cursor: string | null }> {
    const sparse = input.FilterExpression !== undefined || keep !== undefined;
    const items: Record<string, unknown>[] = [];
    let start = this.pages.decode(listing, cursor);
    let read = 0;
    while (true) {
      const out = await this.db.send(
        new QueryCommand({
          ...input,
          TableName: this.table,
          // Unfiltered: exactly what the page needs. Filtered: a larger read, cut below, so sparse matches cost a few
          // requests rather than one per item.
          Limit: sparse ? Math.min(READ_CHUNK, Math.max(limit - items.length, 100)) : limit - items.length,
          ExclusiveStartKey: start,
        }),
      );
      read += out.ScannedCount ?? out.Items?.length ?? 0;
      for (const item of out.Items ?? []) {
        if (keep && !keep(item)) continue;
        if (items.length === limit)
          return { items, cursor: this.pages.encode(listing, keyOf(items[items.length - 1]!, input.IndexName)) };
        items.push(item);
      }
      start = out.LastEvaluatedKey;
      if (!start) return { items, cursor: null };
      if (items.length === limit || read >= MAX_ITEMS_READ_PER_PAGE)
        return { items, cursor: this.pages.encode(listing, start) };
    }
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

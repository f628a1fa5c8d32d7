import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DatasetImage, ImageStore } from '../ports/image-store.ts';
import { isConditionFailure, keys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

export type { DatasetImage } from '../ports/image-store.ts';

export class ImageRepository extends TableRepository implements ImageStore {
  /** Registers the image; false when it was already registered (a repeated S3 event), so counts stay exact. */
  async add(projectId: string, image: DatasetImage): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.image(projectId, image.key), ...image },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async has(projectId: string, key: string): Promise<boolean> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.image(projectId, key), ProjectionExpression: 'pk' }),
    );
    return out.Item !== undefined;
  }

  /** false when it was not registered. */
  async remove(projectId: string, key: string): Promise<boolean> {
    const out = await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: keys.image(projectId, key), ReturnValues: 'ALL_OLD' }),
    );
    return out.Attributes !== undefined;
  }

  async list(
    projectId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: DatasetImage[]; cursor: string | null }> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :i)',
        ExpressionAttributeValues: { ':p': keys.project(projectId).pk, ':i': 'IMAGE#' },
        Limit: limit,
        ExclusiveStartKey: this.pages.decode(`images:${projectId}`, cursor),
      }),
    );
    return {
      items: (out.Items ?? []).map(({ pk, sk, ...rest }) => rest as DatasetImage),
      cursor: this.pages.encode(`images:${projectId}`, out.LastEvaluatedKey),
    };
  }

  async all(projectId: string): Promise<DatasetImage[]> {
    const items: DatasetImage[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.list(projectId, 1000, cursor);
      items.push(...page.items);
      cursor = page.cursor ?? undefined;
    } while (cursor);
    return items;
  }
}

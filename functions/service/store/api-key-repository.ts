import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord, ApiKeyStore } from '../ports/api-key-store.ts';
import { isConditionFailure, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

export type { ApiKeyRecord } from '../ports/api-key-store.ts';

const key = (hash: string) => ({ pk: `APIKEY#${hash}`, sk: 'APIKEY' });

export class ApiKeyRepository extends TableRepository implements ApiKeyStore {
  async create(record: ApiKeyRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...key(record.hash), gsi1pk: 'APIKEYS', gsi1sk: `${record.createdAt}#${record.id}`, ...record },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /** The key whose secret hashes to this; a lookup by hash, so no secret is ever compared byte by byte. */
  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key(hash) }));
    return out.Item ? stripKeys<ApiKeyRecord>(out.Item) : undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (
      await this.queryAll({
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :k',
        ExpressionAttributeValues: { ':k': 'APIKEYS' },
      })
    ).map((i) => stripKeys<ApiKeyRecord>(i));
  }

  async delete(hash: string): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({ TableName: this.table, Key: key(hash), ConditionExpression: 'attribute_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

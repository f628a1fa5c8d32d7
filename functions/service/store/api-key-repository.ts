import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

/** An API key as stored: only the SHA-256 of the secret, never the secret. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** hex SHA-256 of the key */
  hash: string;
  createdAt: string;
  /** The subject that made it (`user:SUB`, `key:ID`, `local`); people list and revoke their own keys. */
  createdBy?: string;
  /** An administrator's key. Keys stored before scopes existed have neither field and count as administrators'. */
  admin?: boolean;
  /** The projects a scoped key may use. */
  projectIds?: string[] | null;
}

const key = (hash: string) => ({ pk: `APIKEY#${hash}`, sk: 'APIKEY' });

export class ApiKeyRepository extends TableRepository {
  async create(record: ApiKeyRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...key(record.hash), gsi1pk: 'APIKEYS', gsi1sk: `${record.createdAt}#${record.id}`, ...record }, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  /** The key whose secret hashes to this; a lookup by hash, so no secret is ever compared byte by byte. */
  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key(hash) }));
    return out.Item ? stripKeys<ApiKeyRecord>(out.Item) : undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.queryAll({ IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :k', ExpressionAttributeValues: { ':k': 'APIKEYS' } })).map((i) => stripKeys<ApiKeyRecord>(i));
  }

  async delete(hash: string): Promise<boolean> {
    try {
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: key(hash), ConditionExpression: 'attribute_exists(pk)' }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}


import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ModelStore, StoredModel } from '../ports/model-store.ts';
import { isConditionFailure, keys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

export class ModelRepository extends TableRepository implements ModelStore {
  /** Records a trained version once: a retried job that trained again finds it there and keeps the first. */
  async create(model: StoredModel): Promise<StoredModel> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.model(model.projectId, model.version), ...model },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return model;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.get(model.projectId, model.version))!;
    }
  }

  async get(projectId: string, version: number): Promise<StoredModel | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.model(projectId, version), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { pk, sk, ...rest } = out.Item;
    return rest as StoredModel;
  }

  async list(projectId: string): Promise<StoredModel[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :m)',
        ExpressionAttributeValues: { ':p': keys.project(projectId).pk, ':m': 'MODEL#' },
        ScanIndexForward: false,
      }),
    );
    return (out.Items ?? []).map(({ pk, sk, ...rest }) => rest as StoredModel);
  }
}

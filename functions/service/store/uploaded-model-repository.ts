import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredUploadedModel } from '../domain/uploaded-model.ts';
import type { UploadedModelStore } from '../ports/uploaded-model-store.ts';
import { isConditionFailure, keys, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

export class UploadedModelRepository extends TableRepository implements UploadedModelStore {
  async create(model: StoredUploadedModel): Promise<StoredUploadedModel> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.uploadedModel(model.projectId, model.version), ...model },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return model;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.get(model.projectId, model.version))!;
    }
  }

  async get(projectId: string, version: number): Promise<StoredUploadedModel | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.uploadedModel(projectId, version), ConsistentRead: true }),
    );
    return out.Item ? stripKeys<StoredUploadedModel>(out.Item) : undefined;
  }

  async list(projectId: string): Promise<StoredUploadedModel[]> {
    const prefix = keys.uploadedModel(projectId, 0).sk.replace(/\d+$/, '');
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :m)',
      ExpressionAttributeValues: { ':p': keys.project(projectId).pk, ':m': prefix },
      ScanIndexForward: false,
    });
    return items.map((item) => stripKeys<StoredUploadedModel>(item));
  }
}

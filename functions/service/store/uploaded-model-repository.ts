import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
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

  async claimStaged(projectId: string, key: string, until: Date): Promise<boolean> {
    const now = Math.floor(Date.now() / 1000);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          // expiresAt is the table's TTL attribute: a claim left by a crash goes by itself too.
          Item: { ...keys.stagedModel(projectId, key), expiresAt: Math.ceil(until.getTime() / 1000) },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async releaseStaged(projectId: string, key: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.stagedModel(projectId, key) }));
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

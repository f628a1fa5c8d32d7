import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Project } from '../domain/project.ts';
import { isConditionFailure, keys, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

/** A project as stored: the public fields plus its webhook secret. */
export interface ProjectItem extends Project {
  webhookSecret: string;
}

/** A start key that resumes the gsi1 query right after this item. */
const indexKey = (item: Record<string, unknown>): Record<string, unknown> => ({ pk: item.pk, sk: item.sk, gsi1pk: item.gsi1pk, gsi1sk: item.gsi1sk });

// Projects stored before owners were recorded have no owner field: null, as the schema says (administrators only).
const toProject = (item: Record<string, unknown>): ProjectItem => {
  const project = stripKeys<ProjectItem>(item, 'modelCounter');
  return { ...project, owner: project.owner ?? null };
};

export class ProjectRepository extends TableRepository {
  async create(project: ProjectItem): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...keys.project(project.id), gsi1pk: 'PROJECTS', gsi1sk: `${project.createdAt}#${project.id}`, ...project },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(id: string): Promise<ProjectItem | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.project(id), ConsistentRead: true }));
    return out.Item ? toProject(out.Item) : undefined;
  }

  async list(limit: number, cursor?: string): Promise<{ items: ProjectItem[]; cursor: string | null }> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': 'PROJECTS' },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: this.pages.decode('projects', cursor),
      }),
    );
    return { items: (out.Items ?? []).map(toProject), cursor: this.pages.encode('projects', out.LastEvaluatedKey) };
  }

  /** Projects whose owner is this subject, newest first: the index filtered, read until the page is full. */
  async listOwnedBy(owner: string, limit: number, cursor?: string): Promise<{ items: ProjectItem[]; cursor: string | null }> {
    const items: Record<string, unknown>[] = [];
    const listing = `projects:owner:${owner}`;
    let start = this.pages.decode(listing, cursor);
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :p',
          FilterExpression: '#owner = :o',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':p': 'PROJECTS', ':o': owner },
          ScanIndexForward: false,
          Limit: Math.max(limit, 25),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        if (items.length === limit) return { items: items.map(toProject), cursor: this.pages.encode(listing, indexKey(items[items.length - 1]!)) };
        items.push(item);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return { items: items.map(toProject), cursor: null };
  }

  /** These projects (a scoped key's), newest first; ids that no longer exist are left out. */
  async listIds(ids: string[], limit: number, cursor?: string): Promise<{ items: ProjectItem[]; cursor: string | null }> {
    const found = (await Promise.all(ids.map((id) => this.get(id)))).filter((p): p is ProjectItem => !!p);
    found.sort((a, b) => (a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt)));
    const after = this.pages.decode('projects:ids', cursor);
    const from = after ? found.findIndex((p) => keys.project(p.id).pk === after.pk) + 1 : 0;
    const items = found.slice(from, from + limit);
    return { items, cursor: from + limit < found.length ? this.pages.encode('projects:ids', keys.project(items[items.length - 1]!.id)) : null };
  }

  /** Sets fields; undefined leaves a field as it is, null removes it. Returns the project after the change. */
  async update(id: string, fields: Partial<Omit<ProjectItem, 'id' | 'createdAt'>>): Promise<ProjectItem | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    for (const [k, v] of Object.entries({ ...fields, updatedAt: new Date().toISOString() })) {
      if (v === undefined) continue;
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.project(id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toProject(out.Attributes!);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Atomic counter change (image count). */
  async addToCount(id: string, field: 'imageCount', delta: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.project(id),
          UpdateExpression: 'ADD #f :d',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#f': field },
          ExpressionAttributeValues: { ':d': delta },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // the project was deleted meanwhile
    }
  }

  /** Takes the next model version number (atomic), so that two trainings never make the same version. */
  async nextModelVersion(id: string): Promise<number> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.project(id),
        UpdateExpression: 'ADD modelCounter :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes!.modelCounter);
  }

  async delete(id: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.project(id) }));
  }
}

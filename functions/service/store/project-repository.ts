import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_WEBHOOK_EVENTS } from '../domain/events.ts';
import { DEFAULT_PROJECT_KIND } from '../domain/project.ts';
import type { ProjectItem, ProjectStore, TrainingClaim } from '../ports/project-store.ts';
import { deleteItems, isConditionFailure, keys, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

export type { ProjectItem, TrainingClaim } from '../ports/project-store.ts';

/** Fields the table keeps on a project for the service's own bookkeeping, never shown. */
const INTERNAL = ['modelCounter', 'trainingJobId', 'trainingClaimedAt', 'deletingAt'];

// Projects stored before owners were recorded have no owner field: null, as the schema says (administrators only).
// Projects stored before kinds existed have no kind: they are anomaly projects.
const toProject = (item: Record<string, unknown>): ProjectItem => {
  const project = stripKeys<ProjectItem>(item, ...INTERNAL);
  return {
    ...project,
    kind: project.kind ?? DEFAULT_PROJECT_KIND,
    owner: project.owner ?? null,
    webhookEvents: project.webhookEvents ?? [...DEFAULT_WEBHOOK_EVENTS],
  };
};

/** A project being deleted is gone for everyone but the deletion itself. */
const live = (item: Record<string, unknown>): boolean => item.deletingAt === undefined;

export class ProjectRepository extends TableRepository implements ProjectStore {
  async create(project: ProjectItem): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...keys.project(project.id),
          gsi1pk: 'PROJECTS',
          gsi1sk: `${project.createdAt}#${project.id}`,
          ...project,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /** The project; undefined when there is none or it is being deleted. */
  async get(id: string): Promise<ProjectItem | undefined> {
    const item = await this.read(id);
    return item && live(item) ? toProject(item) : undefined;
  }

  /** The project even while it is being deleted (for the deletion, which may be retried). */
  async getForDeletion(id: string): Promise<ProjectItem | undefined> {
    const item = await this.read(id);
    return item ? toProject(item) : undefined;
  }

  private async read(id: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.project(id), ConsistentRead: true }),
    );
    return out.Item;
  }

  /**
   * Marks the project as being deleted, so that from now on nobody finds it and no job can commit to it (their
   * commits are conditional on this mark being absent). False when the project does not exist.
   */
  async markDeleting(id: string): Promise<boolean> {
    return this.updateIf(keys.project(id), {
      UpdateExpression: 'SET deletingAt = if_not_exists(deletingAt, :now)',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':now': new Date().toISOString() },
    });
  }

  /** Projects whose deletion began but did not finish (the process died): a scan, for the runtime's start. */
  async listDeleting(): Promise<ProjectItem[]> {
    const found: ProjectItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'sk = :s AND attribute_exists(deletingAt)',
          ExpressionAttributeValues: { ':s': 'PROJECT' },
          ExclusiveStartKey: start,
        }),
      );
      found.push(...(out.Items ?? []).map(toProject));
      start = out.LastEvaluatedKey;
    } while (start);
    return found;
  }

  /**
   * Takes the project's one training slot for a job: only when it is free or held by `replacing` (a job seen to have
   * ended or never to have been written). A conditional write, so of parallel requests exactly one wins.
   */
  async claimTraining(id: string, jobId: string, replacing?: string): Promise<boolean> {
    return this.updateIf(keys.project(id), {
      UpdateExpression: 'SET trainingJobId = :job, trainingClaimedAt = :now',
      ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(deletingAt) AND (attribute_not_exists(trainingJobId)${replacing ? ' OR trainingJobId = :replacing' : ''})`,
      ExpressionAttributeValues: {
        ':job': jobId,
        ':now': new Date().toISOString(),
        ...(replacing ? { ':replacing': replacing } : {}),
      },
    });
  }

  /** Frees the training slot if this job holds it. */
  async releaseTraining(id: string, jobId: string): Promise<void> {
    await this.updateIf(keys.project(id), {
      UpdateExpression: 'REMOVE trainingJobId, trainingClaimedAt',
      ConditionExpression: 'trainingJobId = :job',
      ExpressionAttributeValues: { ':job': jobId },
    });
  }

  /** Who holds the training slot now, if anyone. */
  async trainingClaim(id: string): Promise<TrainingClaim | undefined> {
    const item = await this.read(id);
    return typeof item?.trainingJobId === 'string'
      ? { jobId: item.trainingJobId, claimedAt: String(item.trainingClaimedAt) }
      : undefined;
  }

  async list(limit: number, cursor?: string): Promise<{ items: ProjectItem[]; cursor: string | null }> {
    const page = await this.queryPage(
      {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': 'PROJECTS' },
        ScanIndexForward: false,
      },
      'projects',
      limit,
      cursor,
      live,
    );
    return { items: page.items.map(toProject), cursor: page.cursor };
  }

  /** Projects whose owner is this subject, newest first: the index filtered, read until the page is full. */
  async listOwnedBy(
    owner: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: ProjectItem[]; cursor: string | null }> {
    const page = await this.queryPage(
      {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        FilterExpression: '#owner = :o',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':p': 'PROJECTS', ':o': owner },
        ScanIndexForward: false,
      },
      `projects:owner:${owner}`,
      limit,
      cursor,
      live,
    );
    return { items: page.items.map(toProject), cursor: page.cursor };
  }

  /** These projects (a scoped key's), newest first; ids that no longer exist are left out. */
  async listIds(
    ids: string[],
    limit: number,
    cursor?: string,
  ): Promise<{ items: ProjectItem[]; cursor: string | null }> {
    const found = (await Promise.all(ids.map((id) => this.get(id)))).filter((p): p is ProjectItem => !!p);
    found.sort((a, b) =>
      a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt),
    );
    const after = this.pages.decode('projects:ids', cursor);
    const from = after ? found.findIndex((p) => keys.project(p.id).pk === after.pk) + 1 : 0;
    const items = found.slice(from, from + limit);
    return {
      items,
      cursor:
        from + limit < found.length
          ? this.pages.encode('projects:ids', keys.project(items[items.length - 1]!.id))
          : null,
    };
  }

  /** Sets fields; undefined leaves a field as it is, null removes it. Returns the project after the change, or undefined when it is gone or being deleted. */
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
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletingAt)',
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

  /** Takes the next model version number (atomic), so that two trainings never make the same version; undefined when the project is gone. */
  async nextModelVersion(id: string): Promise<number | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.project(id),
          UpdateExpression: 'ADD modelCounter :one',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletingAt)',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(out.Attributes!.modelCounter);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Every item in the project's partition but the project's own: images, model versions, results, webhook deliveries. */
  async deleteContents(id: string): Promise<number> {
    const { pk, sk } = keys.project(id);
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': pk },
      ProjectionExpression: 'pk, sk',
    });
    const itemKeys = (items as { pk: string; sk: string }[]).filter((k) => k.sk !== sk);
    await deleteItems(this.db, this.table, itemKeys);
    return itemKeys.length;
  }

  async delete(id: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.project(id) }));
  }
}

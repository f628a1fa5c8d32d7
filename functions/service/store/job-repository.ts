import {
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Job, JobStatus } from '../domain/job.ts';
import type { JobStore, StoredJob } from '../ports/job-store.ts';
import { cancellationReasons, deleteItems, isConditionFailure, keys, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

export type { StoredJob } from '../ports/job-store.ts';

const toJob = (item: Record<string, unknown>): StoredJob =>
  ({ startedAt: null, finishedAt: null, ...stripKeys<Record<string, unknown>>(item) }) as StoredJob;

/**
 * Jobs and their state machine, QUEUED -> RUNNING -> SUCCEEDED | FAILED, every step a conditional write so that two
 * workers never both finish one job. RUNNING -> RUNNING is a take-over: the queue gave the message to another worker
 * because the first stopped extending its visibility (it died).
 */
export class JobRepository extends TableRepository implements JobStore {
  /** Records the idempotency key for a job; returns the job id already recorded under the key, if any. */
  async claimIdempotencyKey(key: string, jobId: string): Promise<string | undefined> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.idempotency(key), jobId, createdAt: new Date().toISOString() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const out = await this.db.send(
        new GetCommand({ TableName: this.table, Key: keys.idempotency(key), ConsistentRead: true }),
      );
      return out.Item?.jobId as string;
    }
  }

  async findByIdempotencyKey(key: string): Promise<string | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.idempotency(key), ConsistentRead: true }),
    );
    return out.Item?.jobId as string | undefined;
  }

  /** The key and the job in one transaction, both only where absent (see JobStore.createRunning). */
  async createRunning(job: StoredJob & { workerId: string; idempotencyKey: string }): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { ...keys.idempotency(job.idempotencyKey), jobId: job.id, createdAt: job.createdAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.table, Item: this.item(job), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return true;
    } catch (error) {
      const reasons = cancellationReasons(error);
      // The key claimed already, or another transaction on it at the same moment (DynamoDB cancels one of two):
      // the caller takes the ordinary way, which finds the job made under the key.
      if (reasons?.[0] === 'ConditionalCheckFailed' || reasons?.includes('TransactionConflict')) return false;
      throw error;
    }
  }

  /** Puts the job unless it exists (a retried creation); returns the stored one. */
  async create(job: StoredJob): Promise<StoredJob> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: this.item(job),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return job;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.get(job.id))!;
    }
  }

  async get(id: string): Promise<StoredJob | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.job(id), ConsistentRead: true }));
    return out.Item ? toJob(out.Item) : undefined;
  }

  async listByProject(
    projectId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: StoredJob[]; cursor: string | null }> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': `JOBS#${projectId}` },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: this.pages.decode(`jobs:${projectId}`, cursor),
      }),
    );
    return {
      items: (out.Items ?? []).map(toJob),
      cursor: this.pages.encode(`jobs:${projectId}`, out.LastEvaluatedKey),
    };
  }

  /** Jobs of a project that are not finished, newest first (to refuse a second training). */
  async unfinished(projectId: string, type: Job['type']): Promise<Job[]> {
    const items = await this.queryAll({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      FilterExpression: '#t = :t AND #s IN (:q, :r)',
      ExpressionAttributeNames: { '#t': 'type', '#s': 'status' },
      ExpressionAttributeValues: { ':p': `JOBS#${projectId}`, ':t': type, ':q': 'QUEUED', ':r': 'RUNNING' },
      ScanIndexForward: false,
    });
    return items.map(toJob);
  }

  /** Every unfinished job (the local runtime re-enqueues them at start: its queue is in memory). */
  async allUnfinished(): Promise<Job[]> {
    const jobs: Job[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'begins_with(pk, :j) AND #s IN (:q, :r)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':j': 'JOB#', ':q': 'QUEUED', ':r': 'RUNNING' },
          ExclusiveStartKey: start,
        }),
      );
      jobs.push(...(out.Items ?? []).map(toJob));
      start = out.LastEvaluatedKey;
    } while (start);
    return jobs;
  }

  /** QUEUED or RUNNING -> RUNNING by this worker; undefined when the job is finished (nothing to do). */
  async start(id: string, workerId: string): Promise<Job | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.job(id),
          UpdateExpression:
            'SET #s = :running, workerId = :w, startedAt = if_not_exists(startedAt, :now), attempts = attempts + :one',
          ConditionExpression: 'attribute_exists(pk) AND #s IN (:queued, :running)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':running': 'RUNNING',
            ':queued': 'QUEUED',
            ':w': workerId,
            ':now': new Date().toISOString(),
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toJob(out.Attributes!);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Progress of a running job; ignored once another worker has taken it over or it finished. */
  async progress(id: string, workerId: string, progress: NonNullable<Job['progress']>): Promise<boolean> {
    return this.conditionalSet(id, workerId, { progress });
  }

  async succeed(id: string, workerId: string, output: Record<string, unknown>): Promise<boolean> {
    return this.conditionalSet(id, workerId, {
      status: 'SUCCEEDED' satisfies JobStatus,
      output,
      error: null,
      finishedAt: new Date().toISOString(),
    });
  }

  /** Records the last error of an attempt; the job stays RUNNING so the queue can retry it. */
  async recordAttemptError(id: string, workerId: string, error: { code: string; message: string }): Promise<boolean> {
    return this.conditionalSet(id, workerId, { error });
  }

  /** FAILED -> QUEUED for a redrive after a fix; the attempts count on. False when the job is not FAILED. */
  async retry(id: string): Promise<boolean> {
    return this.updateIf(keys.job(id), {
      UpdateExpression: 'SET #s = :queued, finishedAt = :null, progress = :null, redrivenAt = :now ADD redrives :one',
      ConditionExpression: 'attribute_exists(pk) AND #s = :failed',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':queued': 'QUEUED',
        ':failed': 'FAILED',
        ':null': null,
        ':now': new Date().toISOString(),
        ':one': 1,
      },
    });
  }

  /** -> FAILED from any unfinished state (retries exhausted, dead-letter queue, or a permanent error). */
  async fail(id: string, error: { code: string; message: string }): Promise<boolean> {
    return this.updateIf(keys.job(id), {
      UpdateExpression: 'SET #s = :failed, #e = :e, finishedAt = :now',
      ConditionExpression: 'attribute_exists(pk) AND #s IN (:queued, :running)',
      ExpressionAttributeNames: { '#s': 'status', '#e': 'error' },
      ExpressionAttributeValues: {
        ':failed': 'FAILED',
        ':queued': 'QUEUED',
        ':running': 'RUNNING',
        ':e': error,
        ':now': new Date().toISOString(),
      },
    });
  }

  /** Removes every job of the project and the idempotency keys they were made under (project deletion). */
  async deleteAllOf(projectId: string): Promise<number> {
    const items = await this.queryAll({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': `JOBS#${projectId}` },
      ProjectionExpression: '#i, #k',
      ExpressionAttributeNames: { '#i': 'id', '#k': 'idempotencyKey' },
    });
    const itemKeys = items.flatMap((job) => [
      keys.job(String(job.id)),
      ...(job.idempotencyKey ? [keys.idempotency(String(job.idempotencyKey))] : []),
    ]);
    await deleteItems(this.db, this.table, itemKeys);
    return itemKeys.length;
  }

  /** A job as an item: with its index keys, and without the times not set yet (if_not_exists() would see a stored null as a value). */
  private item(job: StoredJob): Record<string, unknown> {
    return {
      ...keys.job(job.id),
      gsi1pk: `JOBS#${job.projectId}`,
      gsi1sk: `${job.createdAt}#${job.id}`,
      ...job,
      startedAt: job.startedAt ?? undefined,
      finishedAt: job.finishedAt ?? undefined,
    };
  }

  private async conditionalSet(id: string, workerId: string, fields: Record<string, unknown>): Promise<boolean> {
    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = { ':w': workerId, ':running': 'RUNNING' };
    const sets = Object.entries(fields).map(([k, v]) => {
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      return `#${k} = :${k}`;
    });
    return this.updateIf(keys.job(id), {
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: '#s = :running AND workerId = :w',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }
}

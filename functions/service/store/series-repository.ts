import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SeriesState, SeriesStore, StoredChunk, StoredChunkItem } from '../ports/series-store.ts';
import { deleteItems, isConditionFailure, keys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

const HOUR_MS = 3_600_000;

/**
 * The stream consumer's per-metric items: the detector state (one item, written only over the revision it was read
 * at) and the points, one item per stream record and hour (a redelivered record writes the same item again), kept
 * `retentionDays` by the table's TTL.
 */
export class SeriesRepository extends TableRepository implements SeriesStore {
  /** Days the table keeps a point (DynamoDB TTL). */
  retentionDays = 30;

  async getState(metricId: string): Promise<SeriesState | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.seriesState(metricId) }));
    if (!out.Item) return undefined;
    const { pk, sk, ...state } = out.Item;
    return state as SeriesState;
  }

  async putState(metricId: string, state: SeriesState): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.seriesState(metricId), ...state },
          ConditionExpression:
            state.revision === 1 ? 'attribute_not_exists(pk)' : 'attribute_exists(pk) AND revision = :previous',
          ExpressionAttributeValues: state.revision === 1 ? undefined : { ':previous': state.revision - 1 },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async putChunk(metricId: string, sequence: string, chunk: StoredChunk): Promise<void> {
    const byHour = new Map<number, StoredChunk>();
    chunk.time.forEach((t, i) => {
      const hour = Math.floor(t / HOUR_MS) * HOUR_MS;
      let c = byHour.get(hour);
      if (!c) byHour.set(hour, (c = { time: [], value: [], score: [] }));
      c.time.push(t);
      c.value.push(chunk.value[i]);
      c.score.push(chunk.score[i]);
    });
    await Promise.all(
      [...byHour].map(([hour, c]) =>
        this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...keys.seriesChunk(metricId, hour, sequence),
              ...c,
              // Counted from the later of the hour and now: a late point of an old hour lives long enough for the
              // archive job to move it to S3 (the TTL is the backstop, the job deletes what it archived).
              expiresAt: Math.floor(Math.max(hour + HOUR_MS, Date.now()) / 1000) + this.retentionDays * 86_400,
            },
          }),
        ),
      ),
    );
  }

  async pointsBetween(metricId: string, from: number, to: number): Promise<StoredChunk> {
    const first = keys.seriesChunk(metricId, Math.floor(from / HOUR_MS) * HOUR_MS, '').sk;
    const last = `${keys.seriesChunk(metricId, Math.floor(to / HOUR_MS) * HOUR_MS, '').sk}~`;
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: { ':p': keys.seriesState(metricId).pk, ':a': first, ':b': last },
    });
    const rows: [number, number, number][] = [];
    for (const item of items) {
      const c = item as unknown as StoredChunk;
      c.time.forEach((t, i) => {
        if (t >= from && t <= to) rows.push([t, c.value[i], c.score[i]]);
      });
    }
    rows.sort((a, b) => a[0] - b[0]);
    return { time: rows.map((r) => r[0]), value: rows.map((r) => r[1]), score: rows.map((r) => r[2]) };
  }

  async chunksBefore(metricId: string, beforeHour: number): Promise<StoredChunkItem[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: {
        ':p': keys.seriesState(metricId).pk,
        ':a': keys.seriesChunk(metricId, 0, '').sk,
        ':b': keys.seriesChunk(metricId, beforeHour, '').sk,
      },
    });
    return items.map((item) => {
      const [, hour, sequence] = (item.sk as string).split('#');
      const { time, value, score } = item as unknown as StoredChunk;
      return { hour: Number(hour), sequence, chunk: { time, value, score } };
    });
  }

  async deleteChunks(metricId: string, chunks: Pick<StoredChunkItem, 'hour' | 'sequence'>[]): Promise<void> {
    await deleteItems(
      this.db,
      this.table,
      chunks.map((c) => keys.seriesChunk(metricId, c.hour, c.sequence)),
    );
  }

  async claimArchiveRun(owner: string, now: number, until: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.archiveRun(), owner, until },
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#until': 'until', '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': owner },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async releaseArchiveRun(owner: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: keys.archiveRun(),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      // Another run's claim since ours ran out: theirs to release.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async deleteSeries(metricId: string): Promise<void> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': keys.seriesState(metricId).pk },
      ProjectionExpression: 'pk, sk',
    });
    await deleteItems(this.db, this.table, items as { pk: string; sk: string }[]);
  }

  async getCheckpoint(stream: string, shardId: string): Promise<string | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.streamCheckpoint(stream, shardId) }),
    );
    return out.Item?.sequence as string | undefined;
  }

  async putCheckpoint(stream: string, shardId: string, sequence: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...keys.streamCheckpoint(stream, shardId), sequence, updatedAt: new Date().toISOString() },
      }),
    );
  }
}

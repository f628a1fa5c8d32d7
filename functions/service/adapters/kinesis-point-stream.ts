import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { PointRecord, PointStream } from '../ports/point-stream.ts';

// PutRecords takes at most 500 records a call.
const MAX_RECORDS_PER_CALL = 500;
const MAX_TRIES = 6;

/**
 * Points onto the Kinesis stream, partition key = metric: one metric's records land on one shard, in order. Records
 * are sent in rounds holding at most one record per metric, each round complete before the next: a record the
 * stream did not take (throttling) is sent again without overtaking a later one of its metric. After a few tries the
 * caller gets an error (the request fails, nothing is silently lost).
 */
export class KinesisPointStream implements PointStream {
  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
  ) {}

  async put(records: PointRecord[]): Promise<void> {
    const rounds: PointRecord[][] = [];
    const seen = new Map<string, number>();
    for (const r of records) {
      const k = seen.get(r.metricId) ?? 0;
      seen.set(r.metricId, k + 1);
      (rounds[k] ??= []).push(r);
    }
    for (const round of rounds) {
      for (let i = 0; i < round.length; i += MAX_RECORDS_PER_CALL)
        await this.putAll(round.slice(i, i + MAX_RECORDS_PER_CALL));
    }
  }

  private async putAll(records: PointRecord[]): Promise<void> {
    let pending = records;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await this.client.send(
        new PutRecordsCommand({
          StreamName: this.streamName,
          Records: pending.map((r) => ({ PartitionKey: r.metricId, Data: Buffer.from(JSON.stringify(r)) })),
        }),
      );
      if (!out.FailedRecordCount) return;
      pending = pending.filter((_, k) => Boolean(out.Records?.[k]?.ErrorCode));
      if (attempt >= MAX_TRIES)
        throw new Error(`point stream: ${pending.length} records not accepted after ${attempt} tries`);
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}

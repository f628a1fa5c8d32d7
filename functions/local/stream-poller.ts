import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { consumeStreamRecords } from '../service/sensors/stream-records.ts';
import type { ScoringOutcome } from '../service/sensors/scoring.ts';
import type { Services } from '../service/services.ts';

/**
 * The point stream's consumer on one machine: polls each shard of kinesalite and hands each batch to the same code the
 * Lambda runs. A batch that fails is retried from its first record (as Lambda retries it). After each batch the
 * shard's position is saved in the table (a checkpoint), and a new poller reads on from there; without one (or when
 * the stream no longer knows it) from the oldest record kept. Either way the per-metric sequence in the table skips
 * what was scored already, so a restart scores every point exactly once.
 */
export class StreamPoller {
  private running = false;
  /** Cuts an idle wait short when stopping. */
  private stopping = new AbortController();
  private loops: Promise<void>[] = [];
  /** Batches scored and errors met, for tests and the benchmark. */
  readonly stats = { batches: 0, records: 0, scored: 0, anomalies: 0, errors: 0 };

  constructor(
    private readonly s: Services,
    private readonly client: KinesisClient,
    private readonly streamName: string,
    private readonly options: {
      batchSize?: number;
      /**
       * The wait after an empty read: default 1 s, as Lambda's Kinesis source polls an idle shard once a second (each
       * read costs the SDK and kinesalite a few milliseconds of CPU that detections would otherwise have).
       */
      idleMs?: number;
      /** Told of each batch scored (the live feed's new points). */
      onScored?: (outcome: ScoringOutcome) => void;
    } = {},
  ) {}

  async start(): Promise<void> {
    this.running = true;
    this.stopping = new AbortController();
    const shards = await this.client.send(new ListShardsCommand({ StreamName: this.streamName }));
    this.loops = (shards.Shards ?? []).map((shard) => this.poll(shard.ShardId!));
  }

  /** Stops after the batch under way (a crash is a process that dies instead; see the crash test). */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await Promise.all(this.loops);
  }

  private async poll(shardId: string): Promise<void> {
    let after: string | undefined;
    let checkpointRead = false;
    const iterator = async () => {
      if (!checkpointRead) {
        after = await this.s.series.getCheckpoint(this.streamName, shardId);
        checkpointRead = true;
      }
      const from = (position?: string) =>
        this.client.send(
          new GetShardIteratorCommand({
            StreamName: this.streamName,
            ShardId: shardId,
            ...(position
              ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: position }
              : { ShardIteratorType: 'TRIM_HORIZON' }),
          }),
        );
      try {
        return (await from(after)).ShardIterator;
      } catch (error) {
        // A checkpoint of a stream that is gone (a data folder whose stream was lost): from the oldest record.
        if (!after || (error as { name?: string }).name !== 'InvalidArgumentException') throw error;
        this.s.log({
          level: 'warn',
          msg: 'point stream checkpoint unknown to the stream; reading from the oldest record',
          shardId,
        });
        after = undefined;
        return (await from(undefined)).ShardIterator;
      }
    };
    let it: string | undefined;
    while (this.running) {
      try {
        it ??= await iterator();
        const out = await this.client.send(
          new GetRecordsCommand({ ShardIterator: it, Limit: this.options.batchSize ?? 500 }),
        );
        const records = out.Records ?? [];
        if (records.length > 0) {
          const outcome = await consumeStreamRecords(
            this.s,
            records.map((r) => ({ sequenceNumber: r.SequenceNumber!, data: r.Data! })),
          );
          // As Lambda would read again from the reported record: here the whole batch (what was scored is skipped).
          if (outcome.failedFrom) throw new Error(`a metric failed from sequence ${outcome.failedFrom}`);
          after = records[records.length - 1].SequenceNumber;
          await this.s.series.putCheckpoint(this.streamName, shardId, after!);
          this.options.onScored?.(outcome);
          this.stats.batches++;
          this.stats.records += records.length;
          this.stats.scored += outcome.scored;
          this.stats.anomalies += outcome.anomalies.length;
        }
        it = out.NextShardIterator;
        if (records.length === 0) await this.pause(this.options.idleMs ?? 1000);
      } catch (error) {
        // Read again from after the last batch that went through.
        this.stats.errors++;
        it = undefined;
        this.s.log({ level: 'error', msg: 'point stream batch failed; retrying', shardId, error: String(error) });
        await this.pause(500);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }
}

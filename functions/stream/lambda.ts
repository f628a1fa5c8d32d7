import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { services } from '../service/adapters/aws-services.ts';
import { withLambdaTelemetry } from '../service/adapters/lambda-telemetry.ts';
import { consumeStreamRecords } from '../service/sensors/stream-records.ts';

/**
 * The point stream's consumer in AWS: Kinesis invokes it with a batch of records (the event source mapping bisects a
 * failing batch and sends what keeps failing to its failure destination, lib/point-consumer.ts). The first record of
 * a metric that failed is reported, so the shard is read again from there; scoring is exactly-once per metric (see
 * service/sensors/scoring.ts), so what is read twice changes nothing twice.
 */
export const handler = withLambdaTelemetry(consume);

async function consume(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  const s = services();
  const outcome = await consumeStreamRecords(
    s,
    event.Records.map((r) => ({
      sequenceNumber: r.kinesis.sequenceNumber,
      data: Buffer.from(r.kinesis.data, 'base64'),
    })),
  );
  s.log({
    msg: 'points scored',
    scored: outcome.scored,
    dropped: outcome.dropped,
    anomalies: outcome.anomalies.length,
    ...(outcome.failedFrom ? { failedFrom: outcome.failedFrom } : {}),
  });
  return { batchItemFailures: outcome.failedFrom ? [{ itemIdentifier: outcome.failedFrom }] : [] };
}

import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { livePoster } from '../service/adapters/api-gateway-live-poster.ts';
import { services } from '../service/adapters/aws-services.ts';
import { fanOut } from '../service/live/live-fan-out.ts';
import { pointsDelivery } from '../service/live/live-routing.ts';
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
  // Newly scored points to the WebSocket API's subscribers, one message per metric and batch (the batching window
  // throttles them). Anomalies reach them through the event bus (functions/live/events-lambda.ts).
  const poster = livePoster(s.config);
  if (poster && outcome.series.length > 0) {
    try {
      await fanOut(
        s,
        poster,
        outcome.series.map((series) => pointsDelivery(series)),
      );
    } catch (error) {
      // A live message lost is asked for again with `since`; the batch itself is scored and must not be read again.
      s.log({ level: 'error', msg: 'live points not posted', error: String(error) });
    }
  }
  return { batchItemFailures: outcome.failedFrom ? [{ itemIdentifier: outcome.failedFrom }] : [] };
}

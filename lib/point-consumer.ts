import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { POINTS_INTERVAL_MS } from '../functions/service/live/live-limits.ts';
import { serviceEnvironment } from './data-plane.ts';
import type { Messaging } from './messaging.ts';
import { NodeFunction } from './node-function.ts';
import type { Storage } from './storage.ts';

/** Records a batch holds at most (the local poller reads as many: functions/local/stream-poller.ts). */
export const POINT_BATCH_SIZE = 500;

export interface PointConsumerProps {
  /** The service's modules load the engine's (onnxruntime-node, sharp), as the webhook function's do. */
  layer: lambda.ILayerVersion;
  storage: Storage;
  messaging: Messaging;
}

/**
 * The point stream's consumer: Lambda reads each shard in order and hands batches to functions/stream/lambda.ts (the
 * same code the local poller runs). A failing batch is retried from the first record the function reports failed,
 * split in halves to isolate a bad record, and after its retries its shard and sequence range go to the failure
 * queue. Retries change nothing twice: scoring is exactly-once per metric (service/sensors/scoring.ts).
 */
export class PointConsumer extends Construct {
  readonly function: NodejsFunction;
  /** Moves points older than the table's window to S3 (functions/stream/archive-lambda.ts), hourly. */
  readonly archiveFunction: NodejsFunction;

  constructor(scope: Construct, id: string, props: PointConsumerProps) {
    super(scope, id);
    const { storage, messaging } = props;
    this.function = new NodeFunction(this, 'Function', {
      entry: 'stream/lambda.ts',
      layer: props.layer,
      memorySize: 1024,
      timeout: Duration.minutes(2),
      description: 'Faultline sensors: scores the point stream, stores points and anomalies, announces anomalies',
      // The work queue only because the service's settings require one: this function never touches it.
      environment: serviceEnvironment({
        table: storage.table,
        queue: messaging.queue,
        webhookQueue: messaging.webhookQueue,
        bus: messaging.bus,
        pointStream: messaging.pointStream,
      }),
      logGroupId: 'Logs',
    });
    storage.grantTable(this.function);
    messaging.grantAnnounce(this.function);
    this.function.addEventSource(
      new KinesisEventSource(messaging.pointStream, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: POINT_BATCH_SIZE,
        // Points of a metric reach a live client once per batch: the window is the live feed's points interval.
        maxBatchingWindow: Duration.millis(POINTS_INTERVAL_MS),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 10,
        maxRecordAge: Duration.days(1),
        onFailure: new SqsDlq(messaging.pointFailures),
      }),
    );

    this.archiveFunction = new NodeFunction(this, 'ArchiveFunction', {
      entry: 'stream/archive-lambda.ts',
      layer: props.layer,
      memorySize: 512,
      timeout: Duration.minutes(15),
      description:
        'Faultline sensors: moves points older than the table keeps them to one gzip CSV a metric and day in S3',
      environment: serviceEnvironment({
        bucket: storage.bucket,
        table: storage.table,
        queue: messaging.queue,
        webhookQueue: messaging.webhookQueue,
        bus: messaging.bus,
        pointStream: messaging.pointStream,
      }),
      logGroupId: 'ArchiveLogs',
    });
    storage.grantTable(this.archiveFunction);
    storage.grantObjects(this.archiveFunction, { write: true, delete: false });
    // Runs overlapping by chance are harmless (a lease in the table lets one through); the rate keeps them apart.
    new events.Rule(this, 'ArchiveSchedule', {
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.archiveFunction)],
    });
  }
}

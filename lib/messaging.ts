import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { acknowledgeControl } from './control-tower.ts';
import { Construct } from 'constructs';
import { NOTIFIED_FOLDERS } from '../functions/service/object-keys.ts';

/** The webhook delivery function's timeout: one attempt waits 5 s at most; the batch's attempts run side by side. */
export const WEBHOOK_FUNCTION_TIMEOUT_SECONDS = 30;

export interface MessagingProps {
  bucket: s3.Bucket;
  /** Receives before a message moves to the dead-letter queue. */
  maxReceives: number;
  /** Longest a worker holds a message without extending it (the worker extends it while it works). */
  visibilityTimeout: Duration;
}

/** The work queue with its dead-letter queue, the bucket's notifications into it, the webhook queue, and the event bus. */
export class Messaging extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** Webhook deliveries and their delayed retries, apart from the work: a slow subscriber never holds a worker. */
  readonly webhookQueue: sqs.Queue;
  /** Deliveries whose attempt could not even be recorded, five times over (failed posts are retried by re-sending). */
  readonly webhookDeadLetterQueue: sqs.Queue;
  readonly bus: events.EventBus;
  /** Sensor points on their way to the detector (partition key = metric): the API, the drop folder and devices put. */
  readonly pointStream: kinesis.Stream;
  /** Where the point consumer reports batches it gave up on (their shard and sequence range, for a replay). */
  readonly pointFailures: sqs.Queue;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, 'Work', {
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      receiveMessageWaitTime: Duration.seconds(20),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceives },
    });
    // The drop folder and uploaded training images: S3 tells the workers through the queue.
    for (const folder of NOTIFIED_FOLDERS.created) {
      props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), {
        prefix: `${folder}/`,
      });
    }
    for (const folder of NOTIFIED_FOLDERS.removed) {
      props.bucket.addEventNotification(s3.EventType.OBJECT_REMOVED, new s3n.SqsDestination(this.queue), {
        prefix: `${folder}/`,
      });
    }
    this.webhookDeadLetterQueue = new sqs.Queue(this, 'WebhookDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.webhookQueue = new sqs.Queue(this, 'Webhooks', {
      // six times the delivery function's timeout, as Lambda's SQS event source asks
      visibilityTimeout: Duration.seconds(6 * WEBHOOK_FUNCTION_TIMEOUT_SECONDS),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.webhookDeadLetterQueue, maxReceiveCount: 5 },
    });
    this.bus = new events.EventBus(this, 'Events', { eventBusName: undefined });
    // On-demand: sensor traffic comes in bursts (a site back online sends its backlog), with no shards to size.
    this.pointStream = new kinesis.Stream(this, 'Points', {
      streamMode: kinesis.StreamMode.ON_DEMAND,
      encryption: kinesis.StreamEncryption.MANAGED,
      retentionPeriod: Duration.days(7),
    });
    this.pointFailures = new sqs.Queue(this, 'PointFailures', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    for (const q of [this.deadLetterQueue, this.webhookDeadLetterQueue, this.pointFailures])
      acknowledgeControl(
        q,
        'sqs_dlq_check',
        'A dead-letter (or failure) queue is where failed messages end up: alarmed and redriven by a person, it has no dead-letter queue of its own.',
      );
    Validations.of(this.pointFailures).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        "The point consumer's failure destination: it is itself where failed batches end up (Lambda sends their shard and sequence range), so it has no dead-letter queue of its own.",
    });
  }

  /** Put sensor points on the stream (the API, the drop folder's workers). */
  grantPutPoints(grantee: iam.IGrantable): void {
    this.pointStream.grantWrite(grantee);
  }

  /** Queue work (jobs, detections of the drop folder). */
  grantSendWork(grantee: iam.IGrantable): void {
    this.queue.grantSendMessages(grantee);
  }

  /** Take work off the queue, extend it and delete it (the workers). */
  grantConsumeWork(grantee: iam.IGrantable): void {
    this.queue.grantConsumeMessages(grantee);
  }

  /** Read and delete dead letters (the sweep that marks their jobs FAILED, the administrators' redrive). */
  grantConsumeDeadLetters(grantee: iam.IGrantable): void {
    this.deadLetterQueue.grantConsumeMessages(grantee);
  }

  /** Queue webhook deliveries (the delivery function too: it queues its retries). */
  grantSendWebhooks(grantee: iam.IGrantable): void {
    this.webhookQueue.grantSendMessages(grantee);
  }

  /** Put events on the bus. */
  grantPublishEvents(grantee: iam.IGrantable): void {
    this.bus.grantPutEventsTo(grantee);
  }

  /** What every producer of events does: publish on the bus and queue the project's webhook. */
  grantAnnounce(grantee: iam.IGrantable): void {
    this.grantSendWebhooks(grantee);
    this.grantPublishEvents(grantee);
  }
}

import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/** What the API functions and the workers share: where data lives, how work travels, and the inference layer. */
export interface DataPlane {
  /** onnxruntime-node and sharp (the functions that load the engine's modules need them). */
  layer: lambda.ILayerVersion;
  bucket: s3.Bucket;
  table: dynamodb.TableV2;
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
  /** Where events for project webhooks are queued (the API functions and the workers send; the delivery function posts). */
  webhookQueue: sqs.Queue;
  bus: events.EventBus;
}

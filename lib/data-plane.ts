import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { EngineSetting } from '../functions/engine/paths.ts';
import type { ServiceConfig } from '../functions/service/config.ts';
import type { Messaging } from './messaging.ts';
import type { Storage } from './storage.ts';

/** What the API functions and the workers share: where data lives, how work travels, and the inference layer. */
export interface DataPlane {
  /** onnxruntime-node and sharp (the functions that load the engine's modules need them). */
  layer: lambda.ILayerVersion;
  storage: Storage;
  messaging: Messaging;
}

/**
 * Settings handed to a function or container, by the names the code reads: the service's (functions/service/config.ts)
 * and the engine's (functions/engine/paths.ts), so that a renamed setting fails the build here. Settings of one
 * function alone (the authorizer's, the dispatcher's) are added beside them by the construct that makes it.
 */
export type ServiceEnvironment = Partial<Record<keyof ServiceConfig | EngineSetting, string>>;

/** Where a Lambda bundle finds models/ (beside it) and puts derived files (/tmp, which a warm container keeps). */
export const LAMBDA_PATHS = {
  FAULTLINE_PROJECT_ROOT: '/var/task',
  FAULTLINE_CACHE_DIR: '/tmp/faultline-cache',
} satisfies ServiceEnvironment;

/** The resources a function is told about; each one given becomes its setting. */
export interface ServiceResources {
  bucket?: s3.IBucket;
  table?: dynamodb.ITableV2;
  queue?: sqs.IQueue;
  deadLetterQueue?: sqs.IQueue;
  webhookQueue?: sqs.IQueue;
  bus?: events.IEventBus;
  pointStream?: kinesis.IStream;
}

/** Every resource of the data plane: what the API functions and the workers are told about. */
export const allResources = (plane: DataPlane): ServiceResources => ({
  bucket: plane.storage.bucket,
  table: plane.storage.table,
  queue: plane.messaging.queue,
  deadLetterQueue: plane.messaging.deadLetterQueue,
  webhookQueue: plane.messaging.webhookQueue,
  bus: plane.messaging.bus,
  pointStream: plane.messaging.pointStream,
});

/**
 * The one place the stack's resources become the service's settings (functions/service/config.ts), plus the other
 * settings given; unset values are left out.
 */
export function serviceEnvironment(
  resources: ServiceResources,
  settings: ServiceEnvironment = {},
): Record<string, string> {
  const env: ServiceEnvironment = {
    FAULTLINE_BUCKET: resources.bucket?.bucketName,
    FAULTLINE_TABLE: resources.table?.tableName,
    FAULTLINE_QUEUE_URL: resources.queue?.queueUrl,
    FAULTLINE_DEAD_LETTER_QUEUE_URL: resources.deadLetterQueue?.queueUrl,
    FAULTLINE_WEBHOOK_QUEUE_URL: resources.webhookQueue?.queueUrl,
    FAULTLINE_EVENT_BUS: resources.bus?.eventBusName,
    FAULTLINE_POINT_STREAM: resources.pointStream?.streamName,
    ...settings,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

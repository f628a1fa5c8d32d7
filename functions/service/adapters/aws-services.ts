import { randomBytes } from 'node:crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadServiceConfig, type ServiceConfig } from '../config.ts';
import { jsonLog, type Log } from '../log.ts';
import { ModelCache } from '../models/model-cache.ts';
import type { Services } from '../services.ts';
import { ApiKeyRepository } from '../store/api-key-repository.ts';
import { ImageRepository } from '../store/image-repository.ts';
import { JobRepository } from '../store/job-repository.ts';
import { ModelRepository } from '../store/model-repository.ts';
import { PageCursors } from '../store/page-cursor.ts';
import { ProjectRepository } from '../store/project-repository.ts';
import { ReviewRepository } from '../store/review-repository.ts';
import { ResultRepository } from '../store/result-repository.ts';
import { SensorRepository } from '../store/sensor-repository.ts';
import { SeriesRepository } from '../store/series-repository.ts';
import { LiveConnectionRepository } from '../store/live-connection-repository.ts';
import { WebhookDeliveryRepository } from '../store/webhook-delivery-repository.ts';
import { UploadedModelRepository } from '../store/uploaded-model-repository.ts';
import { classificationResultRepository, objectDetectionResultRepository } from '../store/model-result-repository.ts';
import { type AwsCredentials, documentClient } from './dynamodb-client.ts';
import { EventBridgePublisher, LogEventPublisher } from './event-publishers.ts';
import { kinesisClient } from './kinesis-client.ts';
import { KinesisPointStream } from './kinesis-point-stream.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { SqsWorkQueue } from './sqs-work-queue.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import { emfMetrics, powertools } from './powertools.ts';
import { SDK_CLIENT_DEFAULTS } from './sdk-client-defaults.ts';

/** The services on AWS's SDK clients (S3, DynamoDB, SQS, EventBridge), or their local stand-ins when the settings name endpoints. */
export type { AwsCredentials };

export function createServices(
  config: ServiceConfig,
  log: Log = jsonLog,
  credentials?: AwsCredentials,
  metrics: MetricsSink = emfMetrics(),
): Services {
  // X-Ray subsegments around every S3, DynamoDB and SQS call where tracing is on (Lambda); the clients as they are elsewhere.
  const { tracer } = powertools();
  const region = config.AWS_REGION;
  const s3Options = config.FAULTLINE_S3_ENDPOINT
    ? // s3rver: path-style addressing, and no aws-chunked framing of streamed bodies
      {
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED' as const,
        responseChecksumValidation: 'WHEN_REQUIRED' as const,
      }
    : {};
  const aws = { ...SDK_CLIENT_DEFAULTS, region, ...(credentials ? { credentials } : {}) };
  const s3 = tracer.captureAWSv3Client(new S3Client({ ...aws, endpoint: config.FAULTLINE_S3_ENDPOINT, ...s3Options }));
  const presignS3 = config.FAULTLINE_S3_PUBLIC_ENDPOINT
    ? new S3Client({ ...aws, endpoint: config.FAULTLINE_S3_PUBLIC_ENDPOINT, ...s3Options })
    : s3;
  const db = tracer.captureAWSv3Client(documentClient(config, credentials));
  const sqs = tracer.captureAWSv3Client(new SQSClient({ ...aws, endpoint: config.FAULTLINE_SQS_ENDPOINT }));
  const objects = new S3ObjectStore(s3, config.FAULTLINE_BUCKET, presignS3);
  const table = config.FAULTLINE_TABLE;
  const cursors = new PageCursors(
    config.FAULTLINE_CURSOR_SECRET ? Buffer.from(config.FAULTLINE_CURSOR_SECRET) : randomBytes(32),
  );
  const results = new ResultRepository(db, table, cursors);
  results.retentionDays = config.FAULTLINE_RESULT_RETENTION_DAYS;
  const webhookQueue = config.FAULTLINE_WEBHOOK_QUEUE_URL
    ? new SqsWorkQueue(sqs, config.FAULTLINE_WEBHOOK_QUEUE_URL)
    : undefined;
  const events = config.FAULTLINE_EVENT_BUS
    ? new EventBridgePublisher(
        tracer.captureAWSv3Client(new EventBridgeClient({ ...SDK_CLIENT_DEFAULTS, region })),
        config.FAULTLINE_EVENT_BUS,
        log,
        webhookQueue,
      )
    : new LogEventPublisher(log, webhookQueue);
  const classifications = classificationResultRepository(db, table, cursors);
  classifications.retentionDays = config.FAULTLINE_RESULT_RETENTION_DAYS;
  const objectDetections = objectDetectionResultRepository(db, table, cursors);
  objectDetections.retentionDays = config.FAULTLINE_RESULT_RETENTION_DAYS;
  const webhookDeliveries = new WebhookDeliveryRepository(db, table, cursors);
  webhookDeliveries.retentionDays = config.FAULTLINE_WEBHOOK_LOG_DAYS;
  const series = new SeriesRepository(db, table);
  series.retentionDays = config.FAULTLINE_POINT_RETENTION_DAYS;
  const pointStream = config.FAULTLINE_POINT_STREAM
    ? new KinesisPointStream(
        kinesisClient({ ...aws, endpoint: config.FAULTLINE_KINESIS_ENDPOINT }),
        config.FAULTLINE_POINT_STREAM,
      )
    : undefined;
  return {
    config,
    log,
    metrics,
    objects,
    queue: new SqsWorkQueue(sqs, config.FAULTLINE_QUEUE_URL),
    deadLetters: config.FAULTLINE_DEAD_LETTER_QUEUE_URL
      ? new SqsWorkQueue(sqs, config.FAULTLINE_DEAD_LETTER_QUEUE_URL)
      : undefined,
    webhookQueue,
    events,
    projects: new ProjectRepository(db, table, cursors),
    images: new ImageRepository(db, table, cursors),
    jobs: new JobRepository(db, table, cursors),
    models: new ModelRepository(db, table),
    uploadedModels: new UploadedModelRepository(db, table),
    classifications,
    objectDetections,
    results,
    reviews: new ReviewRepository(db, table),
    apiKeys: new ApiKeyRepository(db, table),
    webhookDeliveries,
    modelCache: new ModelCache(objects, config.FAULTLINE_MODEL_CACHE_DIR, config.FAULTLINE_MODELS_IN_MEMORY, log),
    sensors: new SensorRepository(db, table, cursors),
    series,
    pointStream,
    liveConnections: new LiveConnectionRepository(db, table),
  };
}

let shared: Services | undefined;

/** The process-wide services (a Lambda container, the worker, the local runtime), from the environment. */
export function services(): Services {
  shared ??= createServices(loadServiceConfig());
  return shared;
}

/** For the local runtime and tests: services built elsewhere become the process-wide ones. */
export function useServices(s: Services | undefined): void {
  shared = s;
}

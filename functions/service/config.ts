import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_RETRY_SECONDS, retryScheduleSchema } from './domain/webhook-delivery.ts';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Settings of the API handlers and the worker, from environment variables: the same names in Lambda, in the GPU
 * container and locally (where `npm start` sets the endpoints of the stand-ins).
 */
export const serviceConfigSchema = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  FAULTLINE_BUCKET: z.string().min(3).default('faultline'),
  FAULTLINE_TABLE: z.string().min(3).default('faultline'),
  FAULTLINE_QUEUE_URL: z.url(),
  FAULTLINE_DEAD_LETTER_QUEUE_URL: z.url().optional(),
  /** The project that the compatibility routes (/api/v1/detect-anomaly, ...) act on. */
  FAULTLINE_DEFAULT_PROJECT: z.string().optional(),
  /** The classification project that /api/v1/analyze/image and /api/v1/analyze/health act on. */
  FAULTLINE_DEFAULT_CLASSIFIER_PROJECT: z.string().optional(),
  /** Largest ONNX model file an upload may carry (the request body's own limit applies too). */
  FAULTLINE_MAX_MODEL_BYTES: positiveInt(100 * 1024 * 1024),
  FAULTLINE_EVENT_BUS: z.string().optional(),
  FAULTLINE_MODEL_CACHE_DIR: z.string().default(join(tmpdir(), 'faultline-models')),
  FAULTLINE_MODELS_IN_MEMORY: positiveInt(4),
  FAULTLINE_PRESIGN_SECONDS: positiveInt(900),
  FAULTLINE_MAX_IMAGE_BYTES: positiveInt(20 * 1024 * 1024),
  FAULTLINE_MAX_FILES: positiveInt(50),
  /** Days a stored detection is kept in the table (DynamoDB TTL; the bucket's lifecycle matches); 0 keeps it. */
  /**
   * Key of the HMAC on page cursors (at least 32 characters). The local runtime keeps one in its data folder, the
   * AWS stack in Secrets Manager; unset, each process makes its own (cursors then do not outlive the process).
   */
  FAULTLINE_CURSOR_SECRET: z.string().min(32).optional(),
  FAULTLINE_RESULT_RETENTION_DAYS: z.coerce.number().int().min(0).default(90),
  FAULTLINE_MAX_RECEIVES: positiveInt(3),
  FAULTLINE_VISIBILITY_SECONDS: positiveInt(120),
  /** Messages a worker works on at once (pipelining fetch, decode, backbone, PNGs and writes); unset: from the cores. */
  FAULTLINE_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(32).optional(),
  /** 'none' only in the local runtime on a trusted network: a request without credentials acts as administrator. */
  FAULTLINE_AUTH: z.enum(['authorizer', 'api-key', 'none']).default('authorizer'),
  /** Whether project webhooks may target loopback and private networks: the local runtime allows it, AWS does not. */
  FAULTLINE_WEBHOOK_PRIVATE_TARGETS: z.enum(['allow', 'deny']).default('deny'),
  /** The queue webhook deliveries travel on (never posted on a request's or a worker's path); unset: webhooks are not sent. */
  FAULTLINE_WEBHOOK_QUEUE_URL: z.url().optional(),
  /** Seconds before each retry of a failed webhook delivery; their count is the number of retries. */
  FAULTLINE_WEBHOOK_RETRY_SECONDS: retryScheduleSchema.prefault(DEFAULT_RETRY_SECONDS),
  /** Days the webhook delivery log keeps an attempt (DynamoDB TTL). */
  FAULTLINE_WEBHOOK_LOG_DAYS: positiveInt(30),
  /** Endpoints of S3-, DynamoDB- and SQS-compatible servers (the local stand-ins); unset in AWS. */
  FAULTLINE_S3_ENDPOINT: z.url().optional(),
  FAULTLINE_DYNAMODB_ENDPOINT: z.url().optional(),
  FAULTLINE_SQS_ENDPOINT: z.url().optional(),
  /** The Kinesis stream sensor points travel on (partition key = metric); unset: points are refused with 503. */
  FAULTLINE_POINT_STREAM: z.string().min(1).optional(),
  /** Endpoint of a Kinesis-compatible server (the local kinesalite); unset in AWS. */
  FAULTLINE_KINESIS_ENDPOINT: z.url().optional(),
  /**
   * The WebSocket API's Management API (https://{api}.execute-api.{region}.amazonaws.com/{stage}), where the live
   * feed's messages are posted in AWS; unset: nothing is posted (locally the feed is in the process).
   */
  FAULTLINE_LIVE_ENDPOINT: z.url().optional(),
  /** Days the table keeps a sensor point for charts (DynamoDB TTL). */
  FAULTLINE_POINT_RETENTION_DAYS: positiveInt(30),
  /**
   * Days a sensor point stays in the table before the archive job moves its UTC day to S3 (below the retention days,
   * which are the backstop when the job does not run).
   */
  FAULTLINE_POINT_ARCHIVE_AFTER_DAYS: positiveInt(7),
  /** How old a point may be when it arrives; older ones are refused (400). */
  FAULTLINE_POINT_MAX_AGE_DAYS: positiveInt(365),
  /** Base URL the S3 endpoint is reached at by clients, when it differs from FAULTLINE_S3_ENDPOINT. */
  FAULTLINE_S3_PUBLIC_ENDPOINT: z.url().optional(),
});

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

export class ConfigError extends Error {}

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const parsed = serviceConfigSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid settings:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

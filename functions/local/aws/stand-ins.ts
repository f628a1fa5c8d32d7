import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { awsClientConfig, type StandInAccess } from './aws-client-config.ts';
import { lockDataDir } from '../data-dir-lock.ts';
import { ensureTables, startDynamoDbStandIn } from './dynamodb-stand-in.ts';
import { endpointUrl } from '../listen.ts';
import { startS3StandIn } from './s3-stand-in.ts';
import { createQueues, type QueueSpec, startSqsStandIn } from './sqs-stand-in.ts';
import { standInCredentials } from './stand-in-credentials.ts';

/**
 * S3, DynamoDB and SQS on one machine, spoken to over their real wire protocols, so the service's own AWS SDK code
 * runs unchanged: s3rver (files on disk), dynalite (LevelDB on disk) and fauxqs (in memory). Each answers only
 * requests signed with the data folder's own credentials (stand-in-credentials.ts), and listens on loopback unless
 * told otherwise.
 */

export { awsClientConfig } from './aws-client-config.ts';
export type { QueueSpec } from './sqs-stand-in.ts';

export interface StandInsOptions {
  /** s3rver files under dataDir/s3, dynalite under dataDir/dynamodb (both persisted on disk). */
  dataDir: string;
  /** Default '127.0.0.1'. Anything but a loopback address needs `allowPublic`. */
  host?: string;
  /**
   * The stand-ins hold every object, item and message: they listen on another address than loopback only when the
   * operator says so (FAULTLINE_STANDINS_PUBLIC=true), and then still answer only signed requests.
   */
  allowPublic?: boolean;
  /** 0 or undefined = a free port. */
  ports?: { s3?: number; dynamodb?: number; sqs?: number };
  /** Default 'us-east-1'. */
  region?: string;
  /** Created if missing. */
  bucket: string;
  /** Each created if missing (and waited for until ACTIVE); an existing table is left as it is. */
  tables: CreateTableCommandInput[];
  /** Each created with its dead-letter queue and RedrivePolicy {deadLetterTargetArn, maxReceiveCount}. */
  queues: QueueSpec[];
  /** Called for every object created/removed in the bucket, with the JSON S3 notifications have. */
  onS3Event?: (event: S3Event) => void | Promise<void>;
  /** Browser origins allowed to GET/PUT/POST/HEAD the bucket (presigned uploads from a page); unset = no change. */
  corsAllowedOrigins?: string[];
  /** Where a failing onS3Event is reported; default one JSON line on stderr. */
  log?: (line: Record<string, unknown>) => void;
}

export interface StandIns extends StandInAccess {
  /** By queue name, including the dead-letter queues. */
  queueUrls: Record<string, string>;
  /** Closes all three servers (after onS3Event calls under way have settled); idempotent. */
  stop(): Promise<void>;
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: addresses no other machine reaches. */
export const isLoopback = (host: string): boolean =>
  host === 'localhost' ||
  host === '::1' ||
  /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(host) ||
  /^\[::1\]$/.test(host);

export async function startStandIns(options: StandInsOptions): Promise<StandIns> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && !options.allowPublic) {
    throw new Error(
      `the S3, DynamoDB and SQS stand-ins would listen on ${host}, reachable from other machines; they listen on loopback only ` +
        'unless FAULTLINE_STANDINS_PUBLIC=true says otherwise (they then still answer only requests signed with DATA_DIR/aws-credentials)',
    );
  }
  const region = options.region ?? 'us-east-1';
  const log = options.log ?? ((line: Record<string, unknown>) => console.error(JSON.stringify(line)));

  // A failing or slow handler must neither crash s3rver nor hold up its response, as with S3's asynchronous delivery.
  const deliveries = new Set<Promise<void>>();
  const deliver = (event: S3Event) => {
    const onS3Event = options.onS3Event;
    if (!onS3Event) return;
    const delivery: Promise<void> = Promise.resolve()
      .then(() => onS3Event(event))
      .catch((error: unknown) => {
        const record = event.Records[0];
        log({
          level: 'error',
          msg: 'onS3Event failed',
          eventName: record?.eventName,
          key: record?.s3.object.key,
          error: error instanceof Error ? error.stack : String(error),
        });
      })
      .finally(() => deliveries.delete(delivery));
    deliveries.add(delivery);
  };

  await mkdir(options.dataDir, { recursive: true });
  const unlock = await lockDataDir(options.dataDir);
  let credentials;
  try {
    credentials = await standInCredentials(options.dataDir);
  } catch (error) {
    await unlock();
    throw error;
  }
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    // S3 first, so no new events start; then let the ones under way finish while SQS and DynamoDB still answer.
    // One server failing to close does not keep the others (or the data folder) held.
    const failures: unknown[] = [];
    for (const stop of stops.splice(0)) {
      await stop().catch((error: unknown) => failures.push(error));
      while (deliveries.size) await Promise.all(deliveries);
    }
    await unlock();
    if (failures.length) throw failures[0];
  };

  try {
    const s3 = await startS3StandIn({
      directory: join(options.dataDir, 's3'),
      host,
      port: options.ports?.s3 ?? 0,
      region,
      bucket: options.bucket,
      corsAllowedOrigins: options.corsAllowedOrigins,
      credentials,
      onEvent: deliver,
      log,
    });
    stops.push(s3.stop);
    const sqs = await startSqsStandIn({ host, port: options.ports?.sqs ?? 0, region, credentials, log });
    stops.push(sqs.stop);
    const dynamodb = await startDynamoDbStandIn({
      path: join(options.dataDir, 'dynamodb'),
      host,
      port: options.ports?.dynamodb ?? 0,
      credentials,
      log,
    });
    stops.push(dynamodb.stop);

    const access: StandInAccess = {
      endpoints: {
        s3: endpointUrl(host, s3.port),
        dynamodb: endpointUrl(host, dynamodb.port),
        sqs: endpointUrl(host, sqs.port),
      },
      region,
      credentials: { ...credentials },
    };
    const config = awsClientConfig(access);
    const dynamoDbClient = new DynamoDBClient(config.dynamodb);
    const sqsClient = new SQSClient(config.sqs);
    let queueUrls: Record<string, string>;
    try {
      await ensureTables(dynamoDbClient, options.tables);
      queueUrls = await createQueues(sqsClient, options.queues);
    } finally {
      dynamoDbClient.destroy();
      sqsClient.destroy();
    }

    let stopped: Promise<void> | undefined;
    return { ...access, queueUrls, stop: () => (stopped ??= stopAll()) };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

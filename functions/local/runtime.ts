import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { routeHandler } from '../api/http/route-handler.ts';
import { routes } from '../api/routes/index.ts';
import { loadServiceConfig } from '../service/config.ts';
import { type Log, silentLog } from '../service/log.ts';
import { recoverUnfinishedWork } from '../service/jobs/recovery.ts';
import { createServices, useServices } from '../service/adapters/aws-services.ts';
import type { Services } from '../service/services.ts';
import { tableDefinition } from '../service/store/table-definition.ts';
import { Worker } from '../worker/worker.ts';
import { WebhookDeliveryLoop } from '../webhooks/delivery-loop.ts';
import { openRoutes, signInAuthorizer } from './gateway/authorize.ts';
import type { SignIn } from '../auth/authorizer.ts';
import { issuerVerifier } from '../auth/issuer-verifier.ts';
import { startHttpServer } from './gateway/http-server.ts';
import { localCursorSecret } from './cursor-secret.ts';
import { localApiKey } from './local-api-key.ts';
import type { LocalSettings, ServiceSettings } from './local-settings.ts';
import { startStandInsThread } from './aws/stand-ins-thread.ts';
import { staticFiles } from './console/static-files.ts';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../service/adapters/kinesis-client.ts';
import { StreamPoller } from './stream-poller.ts';
import { LiveFeed } from '../service/live/live-feed.ts';
import { liveSocketServer } from './gateway/live-socket.ts';
import { type PrometheusMetrics, prometheusMetrics } from './prometheus-metrics.ts';
import { metricsRoute } from './metrics-route.ts';
import { fanOutMetrics } from '../service/ports/metrics.ts';
import { emfMetrics } from '../service/adapters/powertools.ts';
import { ArchiveLoop } from './archive-loop.ts';
import { rememberedApiKeys, rememberedProjects } from './read-caches.ts';

export const WORK_QUEUE = 'faultline-work';
export const DEAD_LETTER_QUEUE = 'faultline-work-dlq';
export const WEBHOOK_QUEUE = 'faultline-webhooks';
export const WEBHOOK_DEAD_LETTER_QUEUE = 'faultline-webhooks-dlq';
export const POINT_STREAM = 'faultline-points';

export interface LocalRuntime {
  url: string;
  /** The key to send as x-api-key; undefined when FAULTLINE_AUTH=none. */
  apiKey?: string;
  s3Endpoint: string;
  /** The stand-ins' access key id; its secret is in DATA_DIR/aws-credentials. */
  awsAccessKeyId: string;
  dataDir: string;
  services: Services;
  /** What GET /metrics answers. */
  prometheus: PrometheusMetrics;
  workers: Worker[];
  webhooks: WebhookDeliveryLoop;
  /** The sensor point stream's consumer (kinesalite), and the client it reads with. */
  points: { poller: StreamPoller; client: KinesisClient; streamName: string };
  stop(): Promise<void>;
}

/**
 * The whole service on one machine: S3 (s3rver), DynamoDB (dynalite) and SQS (fauxqs) stand-ins, the HTTP API
 * running the Lambda handlers, and workers polling the queue, with S3 notifications for datasets/ and inbox/
 * delivered to the queue as S3 would. Data lives under the data folder and survives restarts; the queue does not
 * (fauxqs keeps it in memory), so unfinished work is found again from the table and the bucket at start.
 */
export async function startLocalRuntime(settings: LocalSettings, log: Log): Promise<LocalRuntime> {
  const dataDir = resolve(settings.dataDir);
  await mkdir(dataDir, { recursive: true });
  // On a thread of their own (stand-ins-thread.ts), with the bucket's notifications for datasets/ and inbox/ delivered
  // to the work queue there, as S3 delivers them to SQS. Sensor points: kinesalite beside them, its records in the
  // data folder.
  const standIns = await startStandInsThread({
    dataDir,
    host: settings.host,
    allowPublic: settings.standInsPublic,
    ports: { s3: settings.s3Port, dynamodb: settings.dynamodbPort, sqs: settings.sqsPort },
    bucket: settings.bucket,
    tables: [tableDefinition(settings.table)],
    queues: [
      {
        name: WORK_QUEUE,
        visibilityTimeoutSeconds: settings.visibilitySeconds,
        maxReceiveCount: settings.maxReceives,
        deadLetterQueueName: DEAD_LETTER_QUEUE,
      },
      // Failed deliveries queue their own retries; a message comes back only when its attempt could not be recorded.
      {
        name: WEBHOOK_QUEUE,
        visibilityTimeoutSeconds: 60,
        maxReceiveCount: 5,
        deadLetterQueueName: WEBHOOK_DEAD_LETTER_QUEUE,
      },
    ],
    notifyQueue: WORK_QUEUE,
    kinesis: { path: join(dataDir, 'kinesis'), streams: [{ name: POINT_STREAM, shards: 2 }] },
    corsAllowedOrigins: ['*'],
    log,
  });
  const kinesisEndpoint = standIns.kinesisEndpoint!;
  // The settings the handlers and workers read from the environment in AWS, pointed at the stand-ins: handed to the
  // services directly, so that nothing goes through process.env (two runtimes in one process share nothing).
  const config = loadServiceConfig({
    ...settings.service,
    AWS_REGION: standIns.region,
    FAULTLINE_BUCKET: settings.bucket,
    FAULTLINE_TABLE: settings.table,
    FAULTLINE_QUEUE_URL: standIns.queueUrls[WORK_QUEUE],
    FAULTLINE_DEAD_LETTER_QUEUE_URL: standIns.queueUrls[DEAD_LETTER_QUEUE],
    FAULTLINE_WEBHOOK_QUEUE_URL: standIns.queueUrls[WEBHOOK_QUEUE],
    FAULTLINE_S3_ENDPOINT: standIns.endpoints.s3,
    FAULTLINE_DYNAMODB_ENDPOINT: standIns.endpoints.dynamodb,
    FAULTLINE_SQS_ENDPOINT: standIns.endpoints.sqs,
    // The operator's folder when given (README, Local settings), else beside the data.
    FAULTLINE_MODEL_CACHE_DIR: settings.service.FAULTLINE_MODEL_CACHE_DIR ?? join(dataDir, 'model-cache'),
    FAULTLINE_MAX_RECEIVES: String(settings.maxReceives),
    FAULTLINE_VISIBILITY_SECONDS: String(settings.visibilitySeconds),
    FAULTLINE_AUTH: settings.auth,
    FAULTLINE_CURSOR_SECRET: await localCursorSecret(dataDir),
    // Receivers on this machine or network are what a local user means.
    FAULTLINE_WEBHOOK_PRIVATE_TARGETS: 'allow',
    FAULTLINE_DEFAULT_PROJECT: settings.defaultProject,
    FAULTLINE_POINT_STREAM: POINT_STREAM,
    FAULTLINE_KINESIS_ENDPOINT: kinesisEndpoint,
  } satisfies ServiceSettings);
  // The same metrics as in AWS (EMF lines on stdout), and for a Prometheus scraper on GET /metrics.
  const prometheus = prometheusMetrics();
  // A runtime whose log is silent (most tests) writes no metric lines either.
  const metrics = log === silentLog ? prometheus.sink : fanOutMetrics(emfMetrics(), prometheus.sink);
  const services = createServices(config, log, standIns.credentials, metrics);
  services.apiKeys = rememberedApiKeys(services.apiKeys);
  services.projects = rememberedProjects(services.projects);
  useServices(services);

  await recoverUnfinishedWork(services, settings.bucket, log);
  const apiKey = settings.auth === 'api-key' ? await localApiKey(services, dataDir) : undefined;

  // The cloud's sign-in against this runtime's key table; people's JWTs too where an OIDC issuer is set.
  const oidc = settings.oidc;
  const verifier = oidc && issuerVerifier({ issuer: oidc.issuer, audience: [oidc.clientId], jwksUri: oidc.jwksUri });
  const signIn: SignIn = {
    keys: services,
    jwt: verifier && (() => ({ verifier, adminGroup: oidc!.adminGroup })),
  };
  const open = openRoutes(settings.openAccess);
  // The live feed (WebSockets on the API's port): the events the service publishes, and the points the consumer scores.
  const live = new LiveFeed(services);
  const publisher = services.events;
  services.events = {
    publish: async (event, project) => {
      await publisher.publish(event, project);
      live.event(event);
    },
  };
  const liveSockets = liveSocketServer({ feed: live, signIn: apiKey ? signIn : undefined, log });
  const http = await startHttpServer({
    host: settings.host,
    port: settings.port,
    routes: [...routes, metricsRoute(prometheus)].map((r) => ({
      method: r.method,
      path: r.path,
      handler: routeHandler(r, () => services),
      authorize: r.public || !apiKey ? undefined : signInAuthorizer(signIn, open, r.compatGroup),
      renderError: r.errorShape && ((e) => r.errorShape!.render(e)),
    })),
    maxBodyBytes: settings.maxBodyBytes,
    bodyBudgetBytes: settings.bodyBudgetBytes,
    bodyIdleMs: settings.bodyIdleSeconds * 1000,
    bodyTimeoutMs: settings.bodyTimeoutSeconds * 1000,
    rateLimit: settings.rateLimit,
    // The console's pages allow images and uploads from the S3 endpoint that presigned URLs point to.
    fallback: staticFiles({
      s3Origin: new URL(services.config.FAULTLINE_S3_PUBLIC_ENDPOINT ?? standIns.endpoints.s3).origin,
      authRequired: apiKey !== undefined,
      oidc: apiKey && oidc ? { authority: oidc.issuer, clientId: oidc.clientId } : undefined,
    }),
    log: settings.accessLog ? log : undefined,
    upgrade: liveSockets.upgrade,
  });

  const workers = Array.from(
    { length: settings.workers },
    (_, i) => new Worker(services, { workerId: `local-worker-${i + 1}`, waitSeconds: 2, deadLetterSweepSeconds: 10 }),
  );
  for (const w of workers) w.start();
  // Apart from the workers: a slow webhook subscriber never holds a detection.
  const webhooks = new WebhookDeliveryLoop(services);
  webhooks.start();
  // The same consumer code as the stream's Lambda in AWS, polling kinesalite.
  const pointsClient = kinesisClient({
    region: standIns.region,
    endpoint: kinesisEndpoint,
    credentials: { ...standIns.credentials },
  });
  const poller = new StreamPoller(services, pointsClient, POINT_STREAM, {
    onScored: (outcome) => live.points(outcome.series),
  });
  await poller.start();
  const archive = new ArchiveLoop(services);
  archive.start();

  let stopped = false;
  return {
    url: http.url,
    apiKey,
    s3Endpoint: standIns.endpoints.s3,
    awsAccessKeyId: standIns.credentials.accessKeyId,
    dataDir,
    services,
    prometheus,
    workers,
    webhooks,
    points: { poller, client: pointsClient, streamName: POINT_STREAM },
    async stop() {
      if (stopped) return;
      stopped = true;
      liveSockets.close();
      await http.close();
      await Promise.all([...workers.map((w) => w.stop()), webhooks.stop(), poller.stop(), archive.stop()]);
      pointsClient.destroy();
      await standIns.stop();
      useServices(undefined);
    },
  };
}

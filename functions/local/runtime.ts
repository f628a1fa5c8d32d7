import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { S3Event } from 'aws-lambda';
import { routeHandler } from '../api/http/route-handler.ts';
import { routes } from '../api/routes/index.ts';
import { loadServiceConfig } from '../service/config.ts';
import type { Log } from '../service/log.ts';
import { parseKey } from '../service/object-keys.ts';
import { finishDeletion } from '../service/projects/projects-service.ts';
import { createServices, useServices } from '../service/adapters/aws-services.ts';
import type { Services } from '../service/services.ts';
import { tableDefinition } from '../service/store/table-definition.ts';
import { inboxJobKey } from '../worker/work-message.ts';
import { Worker } from '../worker/worker.ts';
import { WebhookDeliveryLoop } from '../webhooks/delivery-loop.ts';
import { startHttpServer } from './http-server.ts';
import { localCursorSecret } from './cursor-secret.ts';
import { apiKeyAuthorizer, localApiKey } from './local-api-key.ts';
import type { LocalSettings } from './local-settings.ts';
import { startStandIns } from './stand-ins.ts';
import { staticFiles } from './static-files.ts';

export const WORK_QUEUE = 'faultline-work';
export const DEAD_LETTER_QUEUE = 'faultline-work-dlq';
export const WEBHOOK_QUEUE = 'faultline-webhooks';
export const WEBHOOK_DEAD_LETTER_QUEUE = 'faultline-webhooks-dlq';

export interface LocalRuntime {
  url: string;
  /** The key to send as x-api-key; undefined when FAULTLINE_AUTH=none. */
  apiKey?: string;
  s3Endpoint: string;
  /** The stand-ins' access key id; its secret is in DATA_DIR/aws-credentials. */
  awsAccessKeyId: string;
  dataDir: string;
  services: Services;
  workers: Worker[];
  webhooks: WebhookDeliveryLoop;
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
  let deliver: (event: S3Event) => Promise<void> = async () => {};
  const standIns = await startStandIns({
    dataDir,
    host: settings.host,
    allowPublic: settings.standInsPublic,
    ports: { s3: settings.s3Port, dynamodb: settings.dynamodbPort, sqs: settings.sqsPort },
    bucket: settings.bucket,
    tables: [tableDefinition(settings.table)],
    queues: [
      { name: WORK_QUEUE, visibilityTimeoutSeconds: settings.visibilitySeconds, maxReceiveCount: settings.maxReceives, deadLetterQueueName: DEAD_LETTER_QUEUE },
      // Failed deliveries queue their own retries; a message comes back only when its attempt could not be recorded.
      { name: WEBHOOK_QUEUE, visibilityTimeoutSeconds: 60, maxReceiveCount: 5, deadLetterQueueName: WEBHOOK_DEAD_LETTER_QUEUE },
    ],
    onS3Event: (event) => deliver(event),
    corsAllowedOrigins: ['*'],
    log,
  });
  // The same settings the handlers and workers read in AWS, pointed at the stand-ins.
  Object.assign(process.env, {
    AWS_REGION: standIns.region,
    AWS_ACCESS_KEY_ID: standIns.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: standIns.credentials.secretAccessKey,
    FAULTLINE_BUCKET: settings.bucket,
    FAULTLINE_TABLE: settings.table,
    FAULTLINE_QUEUE_URL: standIns.queueUrls[WORK_QUEUE],
    FAULTLINE_DEAD_LETTER_QUEUE_URL: standIns.queueUrls[DEAD_LETTER_QUEUE],
    FAULTLINE_WEBHOOK_QUEUE_URL: standIns.queueUrls[WEBHOOK_QUEUE],
    FAULTLINE_S3_ENDPOINT: standIns.endpoints.s3,
    FAULTLINE_DYNAMODB_ENDPOINT: standIns.endpoints.dynamodb,
    FAULTLINE_SQS_ENDPOINT: standIns.endpoints.sqs,
    FAULTLINE_MODEL_CACHE_DIR: join(dataDir, 'model-cache'),
    FAULTLINE_MAX_RECEIVES: String(settings.maxReceives),
    FAULTLINE_VISIBILITY_SECONDS: String(settings.visibilitySeconds),
    FAULTLINE_AUTH: settings.auth,
    FAULTLINE_CURSOR_SECRET: await localCursorSecret(dataDir),
    // Receivers on this machine or network are what a local user means.
    FAULTLINE_WEBHOOK_PRIVATE_TARGETS: 'allow',
    ...(settings.defaultProject ? { FAULTLINE_DEFAULT_PROJECT: settings.defaultProject } : {}),
  });
  const services = createServices(loadServiceConfig(), log);
  useServices(services);

  // As an S3 bucket notification configured for datasets/ and inbox/ would.
  deliver = async (event) => {
    const ours = event.Records.filter((r) => {
      const parsed = parseKey(decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')));
      return parsed && (parsed.folder === 'datasets' || parsed.folder === 'inbox');
    });
    if (ours.length > 0) await services.queue.send({ Records: ours });
  };

  await recoverUnfinishedWork(services, settings.bucket, log);
  const apiKey = settings.auth === 'api-key' ? await localApiKey(services, dataDir) : undefined;

  const http = await startHttpServer({
    host: settings.host,
    port: settings.port,
    routes: routes.map((r) => ({
      method: r.method,
      path: r.path,
      handler: routeHandler(r, () => services),
      authorize: apiKey && !r.public ? apiKeyAuthorizer(services) : undefined,
    })),
    maxBodyBytes: settings.maxBodyBytes,
    bodyBudgetBytes: settings.bodyBudgetBytes,
    bodyIdleMs: settings.bodyIdleSeconds * 1000,
    bodyTimeoutMs: settings.bodyTimeoutSeconds * 1000,
    rateLimit: settings.rateLimit,
    // The console's pages allow images and uploads from the S3 endpoint that presigned URLs point to.
    fallback: staticFiles({ s3Origin: new URL(services.config.FAULTLINE_S3_PUBLIC_ENDPOINT ?? standIns.endpoints.s3).origin, authRequired: apiKey !== undefined }),
    log: settings.accessLog ? log : undefined,
  });

  const workers = Array.from({ length: settings.workers }, (_, i) => new Worker(services, { workerId: `local-worker-${i + 1}`, waitSeconds: 2, deadLetterSweepSeconds: 10 }));
  for (const w of workers) w.start();
  // Apart from the workers: a slow webhook subscriber never holds a detection.
  const webhooks = new WebhookDeliveryLoop(services);
  webhooks.start();

  let stopped = false;
  return {
    url: http.url,
    apiKey,
    s3Endpoint: standIns.endpoints.s3,
    awsAccessKeyId: standIns.credentials.accessKeyId,
    dataDir,
    services,
    workers,
    webhooks,
    async stop() {
      if (stopped) return;
      stopped = true;
      await http.close();
      await Promise.all([...workers.map((w) => w.stop()), webhooks.stop()]);
      await standIns.stop();
      useServices(undefined);
    },
  };
}

/**
 * The queue is in memory, so after a restart: jobs still QUEUED or RUNNING are queued again, and drop-folder or
 * dataset objects whose notifications were lost (stored while the process was stopping) are delivered again. Every
 * step is idempotent, so finding something already done costs nothing.
 */
export async function recoverUnfinishedWork(s: Services, bucket: string, log: Log): Promise<void> {
  for (const project of await s.projects.listDeleting()) await finishDeletion(s, project.id);
  const jobs = await s.jobs.allUnfinished();
  for (const job of jobs) await s.queue.send({ kind: 'job', jobId: job.id });
  let inbox = 0;
  let datasets = 0;
  const registered = new Map<string, Set<string>>();
  const isRegistered = async (projectId: string, key: string) => {
    if (!registered.has(projectId)) registered.set(projectId, new Set((await s.images.all(projectId)).map((i) => i.key)));
    return registered.get(projectId)!.has(key);
  };
  // A process killed between claiming a job's idempotency key and writing the job leaves a key without a job: that
  // object is not known yet (the worker completes the claim when the notification comes again).
  const hasInboxJob = async (key: string, etag: string) => {
    const id = await s.jobs.findByIdempotencyKey(inboxJobKey(bucket, key, etag));
    return id !== undefined && (await s.jobs.get(id)) !== undefined;
  };
  for (const folder of ['inbox', 'datasets'] as const) {
    let cursor: string | undefined;
    do {
      const page = await s.objects.list(`${folder}/`, { limit: 1000, cursor });
      for (const o of page.objects) {
        const parsed = parseKey(o.key);
        if (!parsed) continue;
        const known = folder === 'inbox' ? await hasInboxJob(o.key, o.etag ?? '') : await isRegistered(parsed.projectId, o.key);
        if (known) continue;
        await s.queue.send({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(o.key).replace(/%2F/g, '/'), eTag: o.etag, size: o.size } } }] });
        if (folder === 'inbox') inbox++;
        else datasets++;
      }
      cursor = page.cursor;
    } while (cursor);
  }
  if (jobs.length + inbox + datasets > 0) log({ msg: 'recovered unfinished work', jobs: jobs.length, inboxObjects: inbox, datasetObjects: datasets });
}

/**
 * Drop-folder benchmark (npm run bench:drop): the local runtime in a child process, a cookie model trained through
 * the API, then 1,000 images (the 46 cookie test images, cracked and good, repeated) put through the S3 endpoint as
 * inbox/{projectId}/load/NNNN.jpg, a few puts in flight at once. It waits until the batch has every result and the
 * work queue is empty, then checks that none is lost and none doubled: exactly one result per key in the table
 * (read through the results API, every page), exactly one JSON file per image under results/{projectId}/load/ in
 * the bucket, and nothing in the dead-letter queue. Past --deadline seconds from the first put it stops and says
 * what is missing. Any loss, double or dead letter makes the exit status 1.
 * The baseline of the same run, before the puts: the engine in this process (the service's model artifact, the same
 * images in turn) with the five PNGs encoded, as many detections in flight as the service's worker takes at once
 * (workerConcurrency), for --engine-seconds after a warm-up; the drop folder's images/s is given as a ratio of it.
 * Flags (or FAULTLINE_BENCH_*): --images 1000, --puts 4 (in flight), --deadline 900, --engine-seconds 20.
 * Figures go to bench-results/drop.{json,md}.
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_QUEUE, WORK_QUEUE } from '../functions/local/runtime.ts';
import { inboxResultKeys } from '../functions/service/object-keys.ts';
import {
  cookieTestImages,
  describeMachine,
  localCredentials,
  localS3,
  numericFlags,
  writeReport,
} from './bench/common.ts';
import { serviceWithCookieModel } from './bench/service-process.ts';
import { engineLoad, serviceDetector } from './bench/engine-baseline.ts';
import { workerConcurrency } from '../functions/worker/worker.ts';

const flags = numericFlags({ images: 1000, puts: 4, deadline: 900, 'engine-seconds': 20 });
if (flags.images < 1 || flags.puts < 1 || flags.deadline < 1)
  throw new Error('--images, --puts and --deadline must be at least 1');
const BATCH = 'load';
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);
/** Every name in `expected` that `seen` lacks, and every one `seen` has more than once (or that is not expected). */
function compare(expected: string[], seen: string[]) {
  const counts = new Map<string, number>();
  for (const k of seen) counts.set(k, (counts.get(k) ?? 0) + 1);
  const wanted = new Set(expected);
  return {
    count: seen.length,
    missing: expected.filter((k) => !counts.has(k)),
    doubled: [...counts].filter(([k, n]) => n > 1 || !wanted.has(k)).map(([k, n]) => `${k} x${n}`),
  };
}

const { service, api, projectId, environment } = await serviceWithCookieModel('drop');
let failed = false;
const s3 = await localS3(service.s3Endpoint, service.dataDir);
const sqs = new SQSClient({
  region: 'us-east-1',
  endpoint: service.sqsEndpoint,
  credentials: await localCredentials(service.dataDir),
});
try {
  const bytes = await cookieTestImages();
  const width = Math.max(4, String(flags.images - 1).length);
  const names = Array.from({ length: flags.images }, (_, i) => String(i).padStart(width, '0'));
  const imageKey = (name: string) => `inbox/${projectId}/${BATCH}/${name}.jpg`;
  const queueUrls = await Promise.all(
    [WORK_QUEUE, DEAD_LETTER_QUEUE].map(
      async (QueueName) => (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!,
    ),
  );
  /** Messages waiting, in flight or delayed in each queue. */
  const queueDepths = async () =>
    Promise.all(
      queueUrls.map(async (QueueUrl) => {
        const { Attributes: a = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
              'ApproximateNumberOfMessagesDelayed',
            ],
          }),
        );
        return (
          Number(a.ApproximateNumberOfMessages ?? 0) +
          Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
          Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
        );
      }),
    );

  // The engine's throughput with the PNGs encoded, the service idle meanwhile (the worker's concurrency, as it runs).
  // (The service's setting, or this environment's, which the service process inherits.)
  const concurrency = service.settings.FAULTLINE_WORKER_CONCURRENCY ?? process.env.FAULTLINE_WORKER_CONCURRENCY;
  const inFlight = workerConcurrency(concurrency ? Number(concurrency) : undefined);
  const detector = await serviceDetector(service, projectId);
  let engine: Awaited<ReturnType<typeof engineLoad>>;
  try {
    await engineLoad(detector, bytes, true, inFlight, 3);
    engine = await engineLoad(detector, bytes, true, inFlight, flags['engine-seconds']);
  } finally {
    await detector.release();
  }
  log(`engine in process with the PNGs encoded, ${inFlight} in flight: ${engine.detectionsPerSecond} images/s`);

  const started = performance.now();
  const deadline = started + flags.deadline * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: flags.puts }, async () => {
      for (let i = next++; i < flags.images; i = next++) {
        await s3.send(
          new PutObjectCommand({
            Bucket: 'faultline',
            Key: imageKey(names[i]),
            Body: bytes[i % bytes.length],
            ContentType: 'image/jpeg',
          }),
        );
      }
    }),
  );
  const putSeconds = (performance.now() - started) / 1000;
  log(`${flags.images} images put in ${round(putSeconds)} s`);

  // Until the batch has every result and the work queue is empty, or the deadline.
  let total = 0;
  let depths = [Number.NaN, Number.NaN];
  let lastLog = 0;
  let doneSeconds = Number.NaN;
  while (performance.now() < deadline) {
    total = (await api(`/api/v1/projects/${projectId}/batches/${BATCH}`)).total_images;
    if (total >= flags.images && Number.isNaN(doneSeconds)) doneSeconds = (performance.now() - started) / 1000;
    depths = await queueDepths();
    if (total >= flags.images && depths[0] === 0) break;
    if (performance.now() - lastLog > 10_000) {
      log(
        `${total} of ${flags.images} results after ${round((performance.now() - started) / 1000)} s; ${depths[0]} messages in the work queue`,
      );
      lastLog = performance.now();
    }
    await sleep(1000);
  }
  const drainedSeconds = (performance.now() - started) / 1000;
  const timedOut = !(total >= flags.images && depths[0] === 0);

  // The table, through the API: every page of the project's results, this batch's keys.
  const resultKeys: string[] = [];
  for (let cursor: string | undefined, first = true; first || cursor; first = false) {
    const page = await api(
      `/api/v1/projects/${projectId}/results?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    for (const r of page.items) if (r.batchId === BATCH) resultKeys.push(r.source.key);
    cursor = page.cursor ?? undefined;
  }
  const table = compare(names.map(imageKey), resultKeys);
  // The bucket: the JSON results (the PNGs are in a folder per image beside them), page by page.
  const jsonKeys: string[] = [];
  const prefix = `results/${projectId}/${BATCH}/`;
  for (let token: string | undefined, first = true; first || token; first = false) {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: 'faultline', Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key!.endsWith('.json')) jsonKeys.push(o.Key!);
    token = page.NextContinuationToken;
  }
  const bucket = compare(
    // The service's own layout (object-keys.ts): the JSON beside the image's name, its extension kept.
    names.map((n) => inboxResultKeys(projectId, `${BATCH}/${n}.jpg`).json),
    jsonKeys,
  );
  const [workQueue, deadLetterQueue] = await queueDepths();

  const problems = [
    timedOut
      ? `not done within the ${flags.deadline} s deadline (${total} results in the batch summary, ${depths[0]} messages in the work queue)`
      : '',
    table.missing.length
      ? `${table.missing.length} images without a result in the table (first: ${table.missing.slice(0, 10).join(', ')})`
      : '',
    table.doubled.length
      ? `${table.doubled.length} doubled or unexpected results in the table (first: ${table.doubled.slice(0, 10).join(', ')})`
      : '',
    bucket.missing.length
      ? `${bucket.missing.length} JSON results missing in the bucket (first: ${bucket.missing.slice(0, 10).join(', ')})`
      : '',
    bucket.doubled.length
      ? `${bucket.doubled.length} unexpected JSON results in the bucket (first: ${bucket.doubled.slice(0, 10).join(', ')})`
      : '',
    workQueue ? `${workQueue} messages left in the work queue` : '',
    deadLetterQueue ? `${deadLetterQueue} messages in the dead-letter queue` : '',
  ].filter(Boolean);
  failed = problems.length > 0;
  const report = {
    environment,
    images: flags.images,
    distinctImageContents: bytes.length,
    putsInFlight: flags.puts,
    deadlineSeconds: flags.deadline,
    putSeconds: round(putSeconds),
    /** null: not reached by the deadline. */
    allResultsSeconds: Number.isNaN(doneSeconds) ? null : round(doneSeconds),
    drainedSeconds: timedOut ? null : round(drainedSeconds),
    imagesPerSecond: Number.isNaN(doneSeconds) ? null : round(flags.images / doneSeconds),
    engineWithPngs: engine,
    /** The drop folder's images/s over the engine's with the PNGs encoded, measured in this run. */
    vsEngineWithPngs: Number.isNaN(doneSeconds)
      ? null
      : round(flags.images / doneSeconds / engine.detectionsPerSecond, 2),
    table: { results: table.count, missing: table.missing, doubled: table.doubled },
    bucket: { jsonResults: bucket.count, missing: bucket.missing, doubled: bucket.doubled },
    queues: { work: workQueue, deadLetter: deadLetterQueue },
    problems,
    failed,
  };
  const md = [
    `Faultline drop folder: ${flags.images} images put as ${prefix.replace('results/', 'inbox/')}NNNN.jpg, ${flags.puts} puts in flight; ${describeMachine(environment)}; ${environment.serviceWorkers} queue worker`,
    '',
    '| | |',
    '|---|---:|',
    `| puts done | ${report.putSeconds} s |`,
    `| every result stored (from the first put; polled every second) | ${report.allResultsSeconds === null ? 'not by the deadline' : `${report.allResultsSeconds} s`} |`,
    `| images/s | ${report.imagesPerSecond ?? '-'} |`,
    `| engine in process, five PNGs encoded, ${engine.connections} in flight (baseline) | ${engine.detectionsPerSecond} images/s |`,
    `| drop folder / engine with PNGs | ${report.vsEngineWithPngs === null ? '-' : `x${report.vsEngineWithPngs}`} |`,
    `| work queue drained | ${report.drainedSeconds === null ? 'not by the deadline' : `${report.drainedSeconds} s`} |`,
    `| results in the table for the batch, each key once | ${table.count} (${table.missing.length} missing, ${table.doubled.length} doubled) |`,
    `| JSON results in the bucket | ${bucket.count} (${bucket.missing.length} missing, ${bucket.doubled.length} unexpected) |`,
    `| messages left: work queue, dead-letter queue | ${workQueue}, ${deadLetterQueue} |`,
    '',
    failed
      ? `FAILED: ${problems.join('; ')}`
      : `None lost, none doubled: ${flags.images} images, ${flags.images} results.`,
    '',
  ].join('\n');
  await writeReport('drop', report, md);
} finally {
  s3.destroy();
  sqs.destroy();
  await service.stop();
}
if (failed) process.exitCode = 1;

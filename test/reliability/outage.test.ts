import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDir } from '../../functions/engine/paths.ts';
import { readStandInCredentials } from '../../functions/local/aws/stand-in-credentials.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { LOCAL_ADMIN } from '../../functions/service/auth/principal.ts';
import { uploadImages } from '../../functions/service/datasets/datasets-service.ts';
import { silentLog } from '../../functions/service/log.ts';
import { createProject } from '../../functions/service/projects/projects-service.ts';
import { createServices } from '../../functions/service/adapters/aws-services.ts';
import type { Services } from '../../functions/service/services.ts';
import { requestTraining } from '../../functions/service/training/training-service.ts';
import { Worker } from '../../functions/worker/worker.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { waitFor } from '../helpers/wait-for.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * S3 or DynamoDB gone for a few seconds in the middle of a job: the worker reaches them through a proxy the test
 * cuts, as if the stand-in had stopped. The SDK retries with backoff, then the queue redelivers after the
 * visibility timeout; the job ends SUCCEEDED with one model version or one complete result, never half of one.
 */
describe.skipIf(!existsSync(cookie))('a stand-in stopped during a job', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let s: Services;
  let faulty: Services;
  let s3: TcpProxy;
  let dynamodb: TcpProxy;
  let worker: Worker;
  let projectId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-outage-'));
    runtime = await startLocalRuntime(
      testSettings(dataDir, { FAULTLINE_WORKERS: '0', FAULTLINE_VISIBILITY_SECONDS: '3', FAULTLINE_MAX_RECEIVES: '8' }),
      silentLog,
    );
    s = runtime.services;
    s3 = await startTcpProxy(s.config.FAULTLINE_S3_ENDPOINT!);
    dynamodb = await startTcpProxy(s.config.FAULTLINE_DYNAMODB_ENDPOINT!);
    // The worker's S3 and DynamoDB are behind the proxies; the test's own view (s) is not.
    faulty = createServices(
      { ...s.config, FAULTLINE_S3_ENDPOINT: s3.url, FAULTLINE_DYNAMODB_ENDPOINT: dynamodb.url },
      silentLog,
      await readStandInCredentials(dataDir),
    );
    projectId = (
      await createProject(
        s,
        {
          name: 'outage',
          description: '',
          severityBands: [{ name: 'Normal', below: 0.5 }, { name: 'Faulty' }],
          threshold: 0.5,
        },
        LOCAL_ADMIN,
      )
    ).id;
    const train = join(cookie, 'train', 'good');
    await uploadImages(
      s,
      projectId,
      await Promise.all(
        readdirSync(train)
          .slice(0, 12)
          .map(async (f) => ({ name: f, bytes: await readFile(join(train, f)) })),
      ),
    );
    worker = new Worker(faulty, { workerId: 'behind-proxy', waitSeconds: 1 });
    worker.start();
    await waitFor('the images to be registered', async () =>
      (await s.images.all(projectId)).length === 12 ? true : undefined,
    );
  });
  afterAll(async () => {
    await worker?.stop();
    await s3?.close();
    await dynamodb?.close();
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('finishes a training job through a 4-second DynamoDB outage, with one model version', async () => {
    const { job } = await requestTraining(s, projectId);
    await waitFor(
      'training to start',
      async () => ((await s.jobs.get(job.id))?.status === 'RUNNING' ? true : undefined),
      60_000,
    );
    dynamodb.cut();
    await sleep(4000);
    dynamodb.restore();
    const done = await waitFor(
      'the job to end',
      async () => {
        const j = await s.jobs.get(job.id);
        return j?.status === 'SUCCEEDED' || j?.status === 'FAILED' ? j : undefined;
      },
      120_000,
    );
    expect(done).toMatchObject({ status: 'SUCCEEDED', error: null });
    expect(dynamodb.refused).toBeGreaterThan(0); // the outage was felt
    expect((await s.models.list(projectId)).map((m) => m.version)).toEqual([1]);
    expect((await s.projects.get(projectId))?.activeModelVersion).toBe(1);
  });

  it('stores a drop-folder result whole after a 4-second S3 outage: JSON, five PNGs and the table row, once', async () => {
    const key = `inbox/${projectId}/outage/cracked.jpg`;
    s3.cut();
    await s.objects.put(key, await readFile(join(cookie, 'test', 'cracked', 'anomaly-3.jpg')), 'image/jpeg');
    await sleep(4000);
    s3.restore();
    const [result] = await waitFor(
      'the result',
      async () => {
        const found = (await s.results.batch(projectId, 'outage')).filter((r) => r.source.key === key);
        return found.length ? found : undefined;
      },
      120_000,
    );
    expect(s3.refused).toBeGreaterThan(0);
    expect(result!.result.is_anomalous).toBe(true);
    // the row is written last, so everything it names exists
    expect(JSON.parse(Buffer.from((await s.objects.get(result!.resultKey!))!).toString('utf8')).id).toBe(result!.id);
    const pngs = Object.values(result!.visualizationKeys ?? {});
    expect(pngs).toHaveLength(5);
    for (const png of pngs) expect((await s.objects.head(png))?.size).toBeGreaterThan(100);
    await sleep(1000);
    expect((await s.results.batch(projectId, 'outage')).filter((r) => r.source.key === key)).toHaveLength(1);
  });
});

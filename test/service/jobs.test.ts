import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testSettings } from '../helpers/local-runtime.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDir } from '../../functions/engine/paths.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { uploadImages } from '../../functions/service/datasets/datasets-service.ts';
import { LOCAL_ADMIN } from '../../functions/service/auth/principal.ts';
import { inboxJobKey } from '../../functions/service/domain/job.ts';
import { redriveDeadLetters } from '../../functions/service/jobs/dead-letters.ts';
import { recoverUnfinishedWork } from '../../functions/service/jobs/recovery.ts';
import { silentLog } from '../../functions/service/log.ts';
import { createProject } from '../../functions/service/projects/projects-service.ts';
import type { Services } from '../../functions/service/services.ts';
import { requestTraining } from '../../functions/service/training/training-service.ts';
import { Worker } from '../../functions/worker/worker.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An S3 notification for an object, as S3 (and the local runtime) put it on the queue. */
const notification = (key: string, eTag: string) => ({
  Records: [
    {
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: 'faultline' }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), eTag } },
    },
  ],
});

/** Drops every message waiting on the work queue (a test then delivers its own). */
async function drainQueue(s: Services): Promise<void> {
  for (
    let m = await s.queue.receive({ max: 10, waitSeconds: 1 });
    m.length > 0;
    m = await s.queue.receive({ max: 10, waitSeconds: 1 })
  )
    for (const x of m) await s.queue.delete(x);
}

/** Receives until a message comes (or the time runs out). */
async function receiveOne(s: Services, visibilitySeconds?: number) {
  for (let i = 0; i < 40; i++) {
    const [m] = await s.queue.receive({ max: 1, waitSeconds: 1, visibilitySeconds });
    if (m) return m;
  }
  throw new Error('no message arrived');
}

/** The job state machine and the queue's delivery guarantees, against the real stand-ins, workers driven by hand. */
describe.skipIf(!existsSync(cookie))('jobs: nothing lost, nothing done twice', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let s: Services;
  let projectId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-jobs-'));
    const settings = testSettings(dataDir, {
      FAULTLINE_WORKERS: '0',
      FAULTLINE_VISIBILITY_SECONDS: '2',
      FAULTLINE_MAX_RECEIVES: '2',
    });
    runtime = await startLocalRuntime(settings, silentLog);
    s = runtime.services;
    const project = await createProject(
      s,
      {
        name: 'jobs',
        description: '',
        severityBands: [{ name: 'Normal', below: 0.5 }, { name: 'Faulty' }],
        threshold: 0.5,
      },
      LOCAL_ADMIN,
    );
    projectId = project.id;
    const train = join(cookie, 'train', 'good');
    const files = await Promise.all(
      readdirSync(train)
        .slice(0, 12)
        .map(async (f) => ({ name: f, bytes: await readFile(join(train, f)) })),
    );
    await uploadImages(s, projectId, files);
    await sleep(500);
    // drain the dataset notifications the uploads caused, so each test sees only its own messages
    const worker = new Worker(s, { workerId: 'drain' });
    for (
      let m = await s.queue.receive({ max: 10, waitSeconds: 1 });
      m.length > 0;
      m = await s.queue.receive({ max: 10, waitSeconds: 1 })
    )
      for (const x of m) await worker.handle(x);
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a training job whose worker died is taken over when its message reappears, and makes one model version', async () => {
    const { job } = await requestTraining(s, projectId);
    const first = await receiveOne(s);
    // worker A takes the job, then dies: it never finishes and stops extending the visibility
    expect(await s.jobs.start(job.id, 'worker-a')).toMatchObject({ status: 'RUNNING', attempts: 1 });
    const again = await receiveOne(s); // after the 2 s visibility timeout
    expect(again.id).toBe(first.id);
    expect(again.receiveCount).toBe(2);
    const b = new Worker(s, { workerId: 'worker-b' });
    await b.handle(again);
    const done = await s.jobs.get(job.id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', attempts: 2, workerId: 'worker-b' });
    // worker A coming back to life cannot overwrite the result
    expect(await s.jobs.succeed(job.id, 'worker-a', { modelVersion: 99 })).toBe(false);
    expect((await s.models.list(projectId)).map((m) => m.version)).toEqual([1]);
    expect((await s.projects.get(projectId))?.activeModelVersion).toBe(1);
  });

  it('the same S3 notification delivered twice, and two workers racing for it, make one job and one result', async () => {
    const key = `inbox/${projectId}/race/cracked.jpg`;
    await s.objects.put(key, await readFile(join(cookie, 'test', 'cracked', 'anomaly-5.jpg')), 'image/jpeg');
    const head = await s.objects.head(key);
    await sleep(300);
    // drop the runtime's own notification: this test delivers its own, twice
    await drainQueue(s);
    await s.queue.send(notification(key, head!.etag!));
    await s.queue.send(notification(key, head!.etag!));
    const [m1, m2] = [await receiveOne(s, 30), await receiveOne(s, 30)];
    await Promise.all([new Worker(s, { workerId: 'w1' }).handle(m1), new Worker(s, { workerId: 'w2' }).handle(m2)]);
    const results = (await s.results.batch(projectId, 'race')).filter((r) => r.source.key === key);
    expect(results).toHaveLength(1);
    const jobs = (await s.jobs.listByProject(projectId, 100)).items.filter(
      (j) => j.type === 'detect' && j.input.key === key,
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0].status).toBe('SUCCEEDED');
  });

  it('a drop-folder image makes its job RUNNING with its key in one table write; the same notification again runs nothing', async () => {
    const key = `inbox/${projectId}/one-write/good.jpg`;
    await s.objects.put(key, await readFile(join(cookie, 'test', 'good', 'test-normal-2.jpg')), 'image/jpeg');
    const head = await s.objects.head(key);
    await sleep(300);
    await drainQueue(s);
    const calls: string[] = [];
    const jobs = s.jobs as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const originals = Object.fromEntries(
      ['createRunning', 'claimIdempotencyKey', 'create', 'start'].map((name) => [name, jobs[name]!]),
    );
    for (const [name, original] of Object.entries(originals))
      jobs[name] = (...a: unknown[]) => {
        calls.push(name);
        return original.apply(s.jobs, a);
      };
    try {
      await s.queue.send(notification(key, head!.etag!));
      await new Worker(s, { workerId: 'one-write' }).handle(await receiveOne(s));
      expect(calls).toEqual(['createRunning']);
      const jobId = await s.jobs.findByIdempotencyKey(inboxJobKey('faultline', key, head!.etag!));
      const job = await s.jobs.get(jobId!);
      expect(job).toMatchObject({ status: 'SUCCEEDED', attempts: 1, workerId: 'one-write', error: null });
      expect(job!.startedAt! >= job!.createdAt).toBe(true);
      expect(job!.finishedAt! >= job!.startedAt!).toBe(true);

      // Delivered again (S3 delivers at least once): the key is found, the finished job is not run again.
      calls.length = 0;
      await s.queue.send(notification(key, head!.etag!));
      await new Worker(s, { workerId: 'again' }).handle(await receiveOne(s));
      expect(calls).toEqual(['createRunning', 'claimIdempotencyKey', 'start']);
      expect(await s.jobs.get(jobId!)).toMatchObject({ status: 'SUCCEEDED', attempts: 1, workerId: 'one-write' });
      expect((await s.results.batch(projectId, 'one-write')).filter((r) => r.source.key === key)).toHaveLength(1);
    } finally {
      Object.assign(jobs, originals);
    }
  });

  it('a message that keeps failing is retried up to the limit, then its job is FAILED with the reason and it waits in the dead-letter queue', async () => {
    const key = `inbox/${projectId}/flaky/good.jpg`;
    await s.objects.put(key, await readFile(join(cookie, 'test', 'good', 'test-normal-4.jpg')), 'image/jpeg');
    await sleep(300);
    // The worker reads an inbox image with getAtMost (one GET, its length checked first).
    const original = s.objects.getAtMost.bind(s.objects);
    s.objects.getAtMost = async (k: string, max: number) => {
      if (k === key) throw new Error('S3 is unreachable (injected)');
      return original(k, max);
    };
    try {
      const worker = new Worker(s, { workerId: 'flaky' });
      const first = await receiveOne(s);
      await worker.handle(first);
      const jobId = (await s.jobs.listByProject(projectId, 100)).items.find((j) => j.input.key === key)!.id;
      expect(await s.jobs.get(jobId)).toMatchObject({
        status: 'RUNNING',
        error: { message: 'S3 is unreachable (injected)' },
      });
      const second = await receiveOne(s);
      expect(second.receiveCount).toBe(2);
      await worker.handle(second);
      const failed = await s.jobs.get(jobId);
      expect(failed?.status).toBe('FAILED');
      expect(failed?.error?.message).toBe('gave up after 2 attempts: S3 is unreachable (injected)');
      // the queue moves the message on to the dead-letter queue, where it stays for a redrive
      await sleep(2500);
      expect(await s.queue.receive({ max: 1, waitSeconds: 1 })).toHaveLength(0);
      const dead = await s.deadLetters!.receive({ max: 1, waitSeconds: 2, visibilitySeconds: 1 });
      expect(dead).toHaveLength(1);
      expect(JSON.parse(dead[0].body).Records[0].s3.object.key).toContain('flaky');
      await sleep(1200);

      // the cause fixed, a redrive sends it back: the same job runs again and succeeds, with one result
      s.objects.getAtMost = original;
      const outcome = await redriveDeadLetters(s);
      expect(outcome).toEqual({ messages: 1, jobs: [jobId] });
      expect(await s.jobs.get(jobId)).toMatchObject({ status: 'QUEUED', redrives: 1 });
      expect(await s.deadLetters!.receive({ max: 1, waitSeconds: 1 })).toHaveLength(0);
      await worker.handle(await receiveOne(s));
      expect(await s.jobs.get(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 3, error: null });
      expect((await s.results.batch(projectId, 'flaky')).filter((r) => r.source.key === key)).toHaveLength(1);
    } finally {
      s.objects.getAtMost = original;
    }
  });

  it('a restart queues again a drop-folder object whose job key was claimed but whose job was never written (killed between the two)', async () => {
    const key = `inbox/${projectId}/claimed/good.jpg`;
    await s.objects.put(key, await readFile(join(cookie, 'test', 'good', 'test-normal-3.jpg')), 'image/jpeg');
    await sleep(300);
    await drainQueue(s);
    const head = await s.objects.head(key);
    await s.jobs.claimIdempotencyKey(inboxJobKey('faultline', key, head!.etag!), randomUUID());
    await recoverUnfinishedWork(s, 'faultline', silentLog);
    const message = await receiveOne(s);
    expect(JSON.parse(message.body).Records[0].s3.object.key).toBe(encodeURIComponent(key).replace(/%2F/g, '/'));
    await new Worker(s, { workerId: 'after-restart' }).handle(message);
    expect((await s.results.batch(projectId, 'claimed')).filter((r) => r.source.key === key)).toHaveLength(1);
  });

  it('a worker works on several messages at once, up to its concurrency, and stopping waits for those in hand', async () => {
    await drainQueue(s);
    const image = await readFile(join(cookie, 'test', 'good', 'test-normal-4.jpg'));
    const keys = Array.from({ length: 7 }, (_, i) => `inbox/${projectId}/pipelined/${i}.jpg`);
    let now = 0;
    let most = 0;
    class Counting extends Worker {
      override async handle(message: Parameters<Worker['handle']>[0]): Promise<void> {
        most = Math.max(most, ++now);
        try {
          await super.handle(message);
        } finally {
          now--;
        }
      }
    }
    const worker = new Counting(s, { workerId: 'pipelined', concurrency: 3, waitSeconds: 1 });
    worker.start();
    for (const key of keys) await s.objects.put(key, image, 'image/jpeg');
    for (let i = 0; i < 600; i++) {
      if ((await s.results.batch(projectId, 'pipelined')).length === keys.length) break;
      await sleep(100);
    }
    await worker.stop();
    const results = await s.results.batch(projectId, 'pipelined');
    expect(results.map((r) => r.source.key).sort()).toEqual([...keys].sort());
    expect(now).toBe(0);
    expect(most).toBe(3);
  });

  it('a worker stopping during a long poll on an empty queue stops at once, not after its wait', async () => {
    const worker = new Worker(s, { workerId: 'idle', waitSeconds: 20 });
    worker.start();
    await sleep(300); // its receive is waiting
    const t = performance.now();
    await worker.stop();
    expect(performance.now() - t).toBeLessThan(2_000);
  });

  it('refuses a second training while one is unfinished', async () => {
    const { job } = await requestTraining(s, projectId);
    await expect(requestTraining(s, projectId)).rejects.toMatchObject({ code: 'TRAINING_IN_PROGRESS' });
    await s.jobs.fail(job.id, { code: 'CANCELLED', message: 'test cleanup' });
  });
});

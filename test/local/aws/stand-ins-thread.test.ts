import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../../functions/local/aws/stand-ins.ts';
import { startStandInsThread, type StandInsThreadOptions } from '../../../functions/local/aws/stand-ins-thread.ts';
import { otherThreadHeaps } from '../../../functions/local/thread-heap.ts';
import { tableDefinition } from '../../../functions/service/store/table-definition.ts';

/** The stand-ins on their own thread, as the local runtime runs them. */
describe('the stand-ins thread', () => {
  let dataDir: string;
  const options = (): StandInsThreadOptions => ({
    dataDir,
    bucket: 'faultline-thread',
    tables: [tableDefinition('faultline-thread')],
    queues: [{ name: 'work', visibilityTimeoutSeconds: 30, maxReceiveCount: 3, deadLetterQueueName: 'work-dlq' }],
    notifyQueue: 'work',
    kinesis: { path: join(dataDir, 'kinesis'), streams: [{ name: 'points', shards: 1 }] },
    log: () => {},
  });
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-thread-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("refuses to start with the stand-in's own message, and leaves the data folder free", async () => {
    await expect(
      startStandInsThread({ ...options(), tables: [tableDefinition('t')] }), // too short a table name
    ).rejects.toThrow(/cannot read table t: TableName must be at least 3 characters/);
    const standIns = await startStandInsThread(options()); // the failed start gave the folder back
    try {
      await expect(startStandInsThread(options())).rejects.toThrow(/data folder .* is in use by this process/);
    } finally {
      await standIns.stop();
    }
  }, 60_000);

  it('delivers the bucket notifications the service is told of to the queue, on the thread', async () => {
    const standIns = await startStandInsThread(options());
    const config = awsClientConfig(standIns);
    const s3 = new S3Client(config.s3);
    const sqs = new SQSClient(config.sqs);
    try {
      expect(standIns.kinesisEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const projectId = randomUUID();
      const put = (Key: string) =>
        s3.send(new PutObjectCommand({ Bucket: 'faultline-thread', Key, Body: 'x', ContentType: 'image/jpeg' }));
      await put(`results/${projectId}/load/a.json`); // not notified
      await put(`inbox/${projectId}/load/a.jpg`);
      const keys: string[] = [];
      for (let i = 0; i < 5 && keys.length === 0; i++) {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: standIns.queueUrls.work, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        for (const m of out.Messages ?? [])
          for (const r of JSON.parse(m.Body!).Records) keys.push(decodeURIComponent(r.s3.object.key));
      }
      expect(keys).toEqual([`inbox/${projectId}/load/a.jpg`]);
    } finally {
      s3.destroy();
      sqs.destroy();
      await standIns.stop();
    }
    // Stopped: the data folder is free again.
    const again = await startStandInsThread(options());
    await again.stop();
  }, 60_000);

  it("answers the memory probe with the thread's own heap, and stops answering when stopped", async () => {
    expect(await otherThreadHeaps()).toEqual([]);
    const standIns = await startStandInsThread(options());
    try {
      const heaps = await otherThreadHeaps();
      expect(heaps).toHaveLength(1);
      // The stand-ins' modules (SDK, dynalite, s3rver) alone hold several MB; the main thread's heap is another.
      expect(heaps[0]!.heapUsed).toBeGreaterThan(5 * 1024 * 1024);
      expect(heaps[0]!.heapTotal).toBeGreaterThanOrEqual(heaps[0]!.heapUsed);
    } finally {
      await standIns.stop();
    }
    expect(await otherThreadHeaps()).toEqual([]);
  }, 60_000);
});

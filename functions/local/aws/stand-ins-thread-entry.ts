import { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { parentPort, workerData } from 'node:worker_threads';
import { SqsWorkQueue } from '../../service/adapters/sqs-work-queue.ts';
import { decodeS3Key, isNotified } from '../../service/object-keys.ts';
import { answerHeapProbes } from '../thread-heap.ts';
import { startKinesisStandIn, type KinesisStandIn } from './kinesis-stand-in.ts';
import { awsClientConfig, type StandIns, startStandIns } from './stand-ins.ts';
import type { FromThread, StandInsThreadOptions } from './stand-ins-thread.ts';

/** The stand-ins thread (stand-ins-thread.ts): starts them, answers `stop`, and delivers the bucket's notifications. */
const options = workerData as StandInsThreadOptions;
const port = parentPort!;
const post = (m: FromThread) => port.postMessage(m);
const log = (line: Record<string, unknown>) => post({ type: 'log', line });

let deliver: (event: S3Event) => Promise<void> = async () => {};
let standIns: StandIns | undefined;
let kinesis: KinesisStandIn | undefined;
let sqs: SQSClient | undefined;
const stopAnswering = answerHeapProbes();

try {
  standIns = await startStandIns({ ...options, onS3Event: (event) => deliver(event), log });
  if (options.kinesis)
    kinesis = await startKinesisStandIn({
      host: options.host ?? '127.0.0.1',
      port: 0,
      path: options.kinesis.path,
      region: standIns.region,
      credentials: standIns.credentials,
      streams: options.kinesis.streams,
      log,
    });
  if (options.notifyQueue) {
    sqs = new SQSClient(awsClientConfig(standIns).sqs);
    const queue = new SqsWorkQueue(sqs, standIns.queueUrls[options.notifyQueue]!);
    // As the bucket's notification configuration in AWS (lib/messaging.ts) would, from the same fact.
    deliver = async (event) => {
      const ours = event.Records.filter((r) => isNotified(r.eventName, decodeS3Key(r.s3.object.key)));
      if (ours.length > 0) await queue.send({ Records: ours });
    };
  }
  const { stop: _, ...access } = standIns;
  post({ type: 'ready', access: { ...access, kinesisEndpoint: kinesis?.endpoint } });
} catch (error) {
  await kinesis?.stop().catch(() => undefined);
  await standIns?.stop().catch(() => undefined);
  post({
    type: 'failed',
    error: error instanceof Error ? error.message : String(error),
    stack: (error as Error)?.stack,
  });
}

port.on('message', (m: { type: string }) => {
  if (m.type !== 'stop') return;
  void (async () => {
    let error: string | undefined;
    for (const stop of [() => kinesis?.stop(), () => standIns?.stop()])
      await Promise.resolve(stop()).catch((e: unknown) => (error ??= String(e)));
    sqs?.destroy();
    stopAnswering();
    post({ type: 'stopped', error });
  })();
});

import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createServer } from 'node:http';
import { buildApp } from 'fauxqs';
import { closeServer, listen } from '../listen.ts';
import { signedJsonRequests } from './stand-in-auth.ts';
import type { AwsCredentials } from './stand-in-credentials.ts';

/**
 * SQS on one machine: fauxqs, in memory. Messages are lost on restart; the service re-enqueues unfinished jobs from
 * its table when it starts. fauxqs's startFauxqs() always binds 0.0.0.0, and fauxqs takes any signature: its app's
 * router is mounted on a server of our own, behind SQS's check of our credentials.
 */

export interface QueueSpec {
  name: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  deadLetterQueueName: string;
}

export interface SqsStandIn {
  port: number;
  stop(): Promise<void>;
}

// fauxqs's own body limit.
const MAX_REQUEST_BYTES = 11 * 1024 * 1024;

export async function startSqsStandIn(o: {
  host: string;
  port: number;
  region: string;
  credentials: AwsCredentials;
  log(line: Record<string, unknown>): void;
}): Promise<SqsStandIn> {
  const app = buildApp({ logger: false, defaultRegion: o.region });
  await app.ready();
  const server = createServer(
    signedJsonRequests((req, res) => app.routing(req, res), {
      credentials: o.credentials,
      log: o.log,
      service: 'sqs',
      maxBodyBytes: MAX_REQUEST_BYTES,
    }),
  );
  let port: number;
  try {
    port = await listen(server, o.port, o.host, 'SQS stand-in (fauxqs)');
  } catch (error) {
    await app.close();
    throw error;
  }
  server.on('error', (error) =>
    o.log({ level: 'error', msg: 'SQS stand-in server error', error: error.stack ?? String(error) }),
  );
  return {
    port,
    stop: async () => {
      await closeServer(server);
      await app.close();
    },
  };
}

// Messages that failed are kept for inspection as long as SQS allows (14 days).
const DEAD_LETTER_RETENTION_SECONDS = '1209600';

/**
 * Creates the queues through the SQS API, each after its dead-letter queue, whose ARN its RedrivePolicy names.
 * Returns URLs by name. fauxqs makes them `http://sqs.<region>.localhost:<port>/000000000000/<name>` and finds a
 * queue by its exact URL: use them as given. They are names, not addresses: an SDK client with an explicit
 * endpoint sends every request there, whatever host the URL has.
 */
export async function createQueues(client: SQSClient, queues: QueueSpec[]): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  const create = async (name: string, attributes: Record<string, string>) => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    urls[name] = QueueUrl as string;
    return QueueUrl as string;
  };
  for (const queue of queues) {
    const deadLetterUrl =
      urls[queue.deadLetterQueueName] ??
      (await create(queue.deadLetterQueueName, { MessageRetentionPeriod: DEAD_LETTER_RETENTION_SECONDS }));
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] }),
    );
    await create(queue.name, {
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: Attributes?.QueueArn,
        maxReceiveCount: queue.maxReceiveCount,
      }),
    });
  }
  return urls;
}

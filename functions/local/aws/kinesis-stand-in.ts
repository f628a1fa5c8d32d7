import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../service/adapters/kinesis-client.ts';
import kinesalite from 'kinesalite';
import { closeServer, endpointUrl, listen, reservePort } from '../listen.ts';
import { type RequestListener, signedJsonRequests } from './stand-in-auth.ts';
import type { AwsCredentials } from './stand-in-credentials.ts';

/**
 * Kinesis Data Streams on one machine: kinesalite speaks the real wire protocol (JSON 1.1), so the service's own
 * Kinesis SDK code and the stream consumer run unchanged. Given a folder it keeps its records there (LevelDB, through
 * leveldown's prebuilt binaries): points accepted but not yet scored outlive a restart of the runtime; without one,
 * in memory (tests that need no restart).
 */

export interface KinesisStandIn {
  endpoint: string;
  stop(): Promise<void>;
}

// Kinesis's own request limit (PutRecords: 5 MiB of data, base64 in JSON).
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

export async function startKinesisStandIn(o: {
  host: string;
  port: number;
  region: string;
  credentials: AwsCredentials;
  /** kinesalite's LevelDB folder (in the data folder); unset: records in memory. */
  path?: string;
  streams: { name: string; shards: number }[];
  log(line: Record<string, unknown>): void;
}): Promise<KinesisStandIn> {
  const what = 'Kinesis stand-in (kinesalite)';
  const port = await reservePort(o.port, o.host, what);
  if (o.path) await mkdir(o.path, { recursive: true });
  const server = kinesalite({ path: o.path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
  // kinesalite takes any signature: its listener goes behind Kinesis's check of ours.
  const [answer] = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on(
    'request',
    signedJsonRequests(answer!, {
      credentials: o.credentials,
      log: o.log,
      service: 'kinesis',
      maxBodyBytes: MAX_REQUEST_BYTES,
    }),
  );
  await listen(server, port, o.host, what);
  server.on('error', (error) =>
    o.log({ level: 'error', msg: 'Kinesis stand-in server error', error: error.stack ?? String(error) }),
  );
  const endpoint = endpointUrl(o.host, port);
  const client = kinesisClient({ region: o.region, endpoint, credentials: { ...o.credentials } });
  try {
    for (const stream of o.streams) {
      // A kept folder has its streams already (their shards and records with them).
      const exists = await client
        .send(new DescribeStreamSummaryCommand({ StreamName: stream.name }))
        .then(() => true)
        .catch((error: { name?: string }) => {
          if (error.name === 'ResourceNotFoundException') return false;
          throw error;
        });
      if (!exists) await client.send(new CreateStreamCommand({ StreamName: stream.name, ShardCount: stream.shards }));
      // CREATING for createStreamMs (0), yet answered asynchronously: wait until ACTIVE.
      for (let i = 0; ; i++) {
        const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream.name }));
        if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
        if (i > 100) throw new Error(`${what}: stream ${stream.name} did not become ACTIVE`);
        await sleep(20);
      }
    }
  } catch (error) {
    client.destroy();
    await closeServer(server);
    throw error;
  }
  client.destroy();
  return { endpoint, stop: () => closeServer(server) };
}

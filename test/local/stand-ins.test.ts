import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeS3EventKey } from '../../functions/local/s3-notification.ts';
import { awsClientConfig, type StandIns, type StandInsOptions, startStandIns } from '../../functions/local/stand-ins.ts';

const BUCKET = 'faultline-test';
const ORIGIN = 'http://localhost:5173';

let dataDir: string;
let standIns: StandIns;
const records: S3EventRecord[] = [];
const logged: Array<Record<string, unknown>> = [];

const options = (): StandInsOptions => ({
  dataDir,
  bucket: BUCKET,
  tables: [
    {
      TableName: 'jobs',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    },
  ],
  queues: [{ name: 'jobs', visibilityTimeoutSeconds: 1, maxReceiveCount: 2, deadLetterQueueName: 'jobs-dlq' }],
  corsAllowedOrigins: [ORIGIN],
  onS3Event: (event: S3Event) => {
    records.push(...event.Records);
    if (event.Records[0]?.s3.object.key === 'explodes') throw new Error('handler failed');
  },
  log: (line) => logged.push(line),
});

const clients = () => {
  const config = awsClientConfig(standIns);
  return { s3: new S3Client(config.s3), dynamodb: new DynamoDBClient(config.dynamodb), sqs: new SQSClient(config.sqs) };
};
let s3: S3Client;
let sqs: SQSClient;
let dynamodb: DynamoDBClient;

async function waitFor<T>(find: () => T | undefined, what: string): Promise<T> {
  for (let waited = 0; waited < 5_000; waited += 10) {
    const found = find();
    if (found !== undefined) return found;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const readObject = async (key: string): Promise<Buffer> => {
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'faultline-stand-ins-'));
  standIns = await startStandIns(options());
  ({ s3, sqs, dynamodb } = clients());
});

afterAll(async () => {
  s3?.destroy();
  sqs?.destroy();
  dynamodb?.destroy();
  await standIns?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('local AWS stand-ins', () => {
  it('answers on free loopback ports with the region and s3rver credentials', () => {
    for (const endpoint of Object.values(standIns.endpoints)) expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new Set(Object.values(standIns.endpoints)).size).toBe(3);
    expect(standIns.region).toBe('us-east-1');
    expect(standIns.credentials).toEqual({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
    expect(Object.keys(standIns.queueUrls).sort()).toEqual(['jobs', 'jobs-dlq']);
  });

  it('stores and returns S3 objects byte for byte, streamed uploads without chunk framing', async () => {
    const small = randomBytes(100_000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'images/small.bin', Body: small }));
    expect((await readObject('images/small.bin')).equals(small)).toBe(true);

    const big = randomBytes(3 * 1024 * 1024 + 17);
    const chunks = Array.from({ length: Math.ceil(big.length / 65_536) }, (_, i) => big.subarray(i * 65_536, (i + 1) * 65_536));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'images/streamed.bin', Body: Readable.from(chunks), ContentLength: big.length }));
    const back = await readObject('images/streamed.bin');
    expect(back.length).toBe(big.length);
    expect(back.equals(big)).toBe(true);
    // aws-chunked framing would start with the chunk size in hex and carry chunk-signature / checksum trailers.
    expect(back.subarray(0, 16).toString('latin1')).not.toMatch(/^[0-9a-f]+(;|\r\n)/);
    expect(back.includes('x-amz-checksum')).toBe(false);
  });

  it('reports each created object as S3 would, the key URL-encoded', async () => {
    const key = 'uploads/my photo (1).png';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from('png bytes') }));
    const record = await waitFor(() => records.find((r) => r.s3.object.key === 'uploads/my+photo+%281%29.png'), 'the ObjectCreated event');
    expect(record).toMatchObject({
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }, object: { size: 9, eTag: expect.stringMatching(/^[0-9a-f]{32}$/) } },
    });
    expect(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))).toBe(key);
    expect(encodeS3EventKey("a/b c+d=e&f'g~h*i.png")).toBe("a/b+c%2Bd%3De%26f%27g%7Eh*i.png");
  });

  it('reports a multipart upload as CompleteMultipartUpload', async () => {
    const key = 'datasets/big.bin';
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1000)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      etags.push((await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: body }))).ETag as string);
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    const record = await waitFor(() => records.find((r) => r.s3.object.key === key), 'the multipart event');
    expect(record.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
    expect(record.s3.object.size).toBe(parts[0]!.length + parts[1]!.length);
    expect((await readObject(key)).equals(Buffer.concat(parts))).toBe(true);
  });

  it('reports removals, also from a batch delete (which s3rver itself does not report)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tmp/one', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tmp/two', Body: '2' }));
    const batch = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'tmp/one' }, { Key: 'tmp/two' }] } }));
    // s3rver's parallel deletes under one prefix race on removing the emptied folder: a 500 the SDK would retry.
    expect(batch.$metadata.attempts).toBe(1);
    for (const key of ['tmp/one', 'tmp/two']) {
      const removed = await waitFor(() => records.find((r) => r.eventName === 'ObjectRemoved:Delete' && r.s3.object.key === key), key);
      expect(removed.s3.object.size).toBeUndefined();
    }
  });

  it('logs a failing onS3Event and keeps serving', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'explodes', Body: 'x' }));
    const line = await waitFor(() => logged.find((l) => l.key === 'explodes'), 'the error log line');
    expect(line).toMatchObject({ level: 'error', msg: 'onS3Event failed', eventName: 'ObjectCreated:Put' });
    expect(String(line.error)).toContain('handler failed');
    expect((await readObject('explodes')).toString()).toBe('x');
  });

  it('takes a browser form upload (presigned POST) from an allowed origin, with CORS headers', async () => {
    const post = await createPresignedPost(s3, { Bucket: BUCKET, Key: 'forms/upload.png', Fields: { 'Content-Type': 'image/png' }, Expires: 60 });
    const preflight = await fetch(post.url, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    const bytes = randomBytes(2048);
    form.append('file', new Blob([bytes], { type: 'image/png' }), 'upload.png');
    const response = await fetch(post.url, { method: 'POST', body: form, headers: { origin: ORIGIN } });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect((await readObject('forms/upload.png')).equals(bytes)).toBe(true);
    const record = await waitFor(() => records.find((r) => r.s3.object.key === 'forms/upload.png'), 'the POST event');
    expect(record.eventName).toBe('ObjectCreated:Post');

    const other = await fetch(post.url, { method: 'OPTIONS', headers: { origin: 'http://elsewhere.example', 'access-control-request-method': 'POST' } });
    expect(other.status).toBe(403);
  });

  it('survives a form upload whose first part header is folded (CVE-2022-24434 in s3rver\'s dicer): 400, and serves on', async () => {
    const post = await createPresignedPost(s3, { Bucket: BUCKET, Key: 'forms/folded.png', Expires: 60 });
    const boundary = '----folded';
    const body = `--${boundary}\r\n Content-Disposition: form-data; name="key"\r\n\r\nx\r\n--${boundary}--`;
    const answer = await fetch(post.url, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    expect(answer.status).toBe(400);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after-folded', Body: 'still here' }));
    expect((await readObject('after-folded')).toString()).toBe('still here');
  });

  it('parses XML bodies (s3rver\'s fast-xml-parser 3, CVE-2023-26920) without polluting the prototype of objects', async () => {
    const xml = '<Delete><__proto__><polluted>yes</polluted></__proto__><constructor><prototype><polluted>yes</polluted></prototype></constructor><Object><Key>none</Key></Object></Delete>';
    const answer = await fetch(`${standIns.endpoints.s3}/${BUCKET}?delete`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
    expect(answer.status).toBeLessThan(500);
    expect(({} as { polluted?: string }).polluted).toBeUndefined();
  });

  it('lists more than 1,000 keys page by page (s3rver\'s continuation tokens need single DES, which OpenSSL 3 lacks)', async () => {
    const keys = Array.from({ length: 1003 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }))));
    const first = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/' }));
    expect(first.KeyCount).toBe(1000);
    expect(first.IsTruncated).toBe(true);
    const second = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/', ContinuationToken: first.NextContinuationToken }));
    expect(second.Contents?.map((o) => o.Key)).toEqual(keys.slice(1000));
  });

  it('lists keys in S3\'s order across pages, where a key and a folder share a name (results/x.json beside results/x/)', async () => {
    const keys = Array.from({ length: 600 }, (_, i) => String(i).padStart(4, '0')).flatMap((n) => [`stems/${n}.json`, `stems/${n}/heatmap.png`]);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }))));
    const listed: string[] = [];
    for (let token: string | undefined, first = true; first || token; first = false) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'stems/', ContinuationToken: token }));
      listed.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    }
    expect(listed).toEqual([...keys].sort());
  });

  it('closes the LevelDB iterator of every query (dynalite 4 left them open: memory grew with each query)', async () => {
    const require = createRequire(createRequire(createRequire(import.meta.url).resolve('dynalite')).resolve('level'));
    const { AbstractValueIterator } = require('abstract-level') as { AbstractValueIterator: { prototype: object } };
    const common = Object.getPrototypeOf(AbstractValueIterator.prototype) as { close(): Promise<void> };
    const close = common.close;
    let closed = 0;
    common.close = function (this: unknown) {
      closed++;
      return close.call(this);
    };
    try {
      const doc = DynamoDBDocumentClient.from(dynamodb);
      for (let i = 0; i < 5; i++) await doc.send(new PutCommand({ TableName: 'jobs', Item: { pk: `iter#${i}` } }));
      const before = closed;
      for (let i = 0; i < 10; i++) {
        await doc.send(new QueryCommand({ TableName: 'jobs', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'iter#1' } }));
        await doc.send(new ScanCommand({ TableName: 'jobs', Limit: 2 }));
      }
      await waitFor(() => (closed - before >= 20 ? true : undefined), 'the iterators to close');
    } finally {
      common.close = close;
    }
  });

  it('moves a message received maxReceiveCount times without deletion to the dead-letter queue', async () => {
    const queueUrl = standIns.queueUrls.jobs;
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"jobId":"j-1"}' }));
    const receive = (url: string) =>
      sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));

    for (const count of ['1', '2']) {
      const { Messages } = await receive(queueUrl);
      expect(Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe(count);
      await sleep(1_100); // the visibility timeout (1 s) runs out without a DeleteMessage
    }
    // The third receive finds the message over maxReceiveCount and moves it instead of returning it.
    expect((await receive(queueUrl)).Messages ?? []).toHaveLength(0);
    const { Messages } = await receive(standIns.queueUrls['jobs-dlq']);
    expect(Messages?.[0]?.Body).toBe('{"jobId":"j-1"}');
    expect(Number(Messages?.[0]?.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(3);
  });

  it('keeps DynamoDB items and S3 objects across a restart on the same data folder', async () => {
    const documents = DynamoDBDocumentClient.from(dynamodb);
    const item = { pk: 'job#1', status: 'queued', attempts: 2, tags: ['a', 'b'], nested: { score: 0.25 } };
    await documents.send(new PutCommand({ TableName: 'jobs', Item: item }));
    expect((await documents.send(new GetCommand({ TableName: 'jobs', Key: { pk: 'job#1' } }))).Item).toEqual(item);

    s3.destroy();
    sqs.destroy();
    dynamodb.destroy();
    await standIns.stop();
    await standIns.stop(); // idempotent
    standIns = await startStandIns(options());
    ({ s3, sqs, dynamodb } = clients());

    const again = DynamoDBDocumentClient.from(dynamodb);
    expect((await again.send(new GetCommand({ TableName: 'jobs', Key: { pk: 'job#1' } }))).Item).toEqual(item);
    expect((await readObject('explodes')).toString()).toBe('x');
    // SQS is in memory: the queues are made again, empty.
    expect(Object.keys(standIns.queueUrls).sort()).toEqual(['jobs', 'jobs-dlq']);
  });

  it('refuses a data folder that stand-ins are already running on', async () => {
    await expect(startStandIns(options())).rejects.toThrow(/data folder .* is in use by this process/);
    // The running ones are untouched.
    expect((await readObject('explodes')).toString()).toBe('x');
  });

  it('fails with an error naming the stand-in and the port when a port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const otherDir = await mkdtemp(join(tmpdir(), 'faultline-stand-ins-busy-'));
    try {
      const base = { ...options(), dataDir: otherDir };
      await expect(startStandIns({ ...base, ports: { s3: port } })).rejects.toThrow(new RegExp(`S3 stand-in .*port ${port} is already in use`));
      await expect(startStandIns({ ...base, ports: { sqs: port } })).rejects.toThrow(new RegExp(`SQS stand-in .*port ${port} is already in use`));
      await expect(startStandIns({ ...base, ports: { dynamodb: port } })).rejects.toThrow(new RegExp(`DynamoDB stand-in .*port ${port} is already in use`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});

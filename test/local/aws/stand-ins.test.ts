import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect as tcpConnect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ListQueuesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeS3Key } from '../../../functions/service/object-keys.ts';
import { decodeQuery, Sha256 } from '../../../functions/local/aws/sigv4.ts';
import {
  awsClientConfig,
  type StandIns,
  type StandInsOptions,
  startStandIns,
} from '../../../functions/local/aws/stand-ins.ts';

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
  it('answers on free loopback ports with the region and credentials of its own, kept in the data folder (0600)', async () => {
    for (const endpoint of Object.values(standIns.endpoints)) expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new Set(Object.values(standIns.endpoints)).size).toBe(3);
    expect(standIns.region).toBe('us-east-1');
    expect(standIns.credentials.accessKeyId).toMatch(/^AKIA[0-9A-F]{16}$/);
    expect(standIns.credentials.secretAccessKey).toMatch(/^[\w-]{40}$/);
    const file = join(dataDir, 'aws-credentials');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).toContain(`aws_access_key_id = ${standIns.credentials.accessKeyId}`);
    expect(text).toContain(`aws_secret_access_key = ${standIns.credentials.secretAccessKey}`);
    expect(Object.keys(standIns.queueUrls).sort()).toEqual(['jobs', 'jobs-dlq']);
  });

  it('stores and returns S3 objects byte for byte, streamed uploads without chunk framing', async () => {
    const small = randomBytes(100_000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'images/small.bin', Body: small }));
    expect((await readObject('images/small.bin')).equals(small)).toBe(true);

    const big = randomBytes(3 * 1024 * 1024 + 17);
    const chunks = Array.from({ length: Math.ceil(big.length / 65_536) }, (_, i) =>
      big.subarray(i * 65_536, (i + 1) * 65_536),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'images/streamed.bin',
        Body: Readable.from(chunks),
        ContentLength: big.length,
      }),
    );
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
    const record = await waitFor(
      () => records.find((r) => r.s3.object.key === 'uploads/my+photo+%281%29.png'),
      'the ObjectCreated event',
    );
    expect(record).toMatchObject({
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
        object: { size: 9, eTag: expect.stringMatching(/^[0-9a-f]{32}$/) },
      },
    });
    expect(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))).toBe(key);
    expect(encodeS3Key("a/b c+d=e&f'g~h*i.png")).toBe('a/b+c%2Bd%3De%26f%27g%7Eh*i.png');
  });

  it('reports a multipart upload as CompleteMultipartUpload', async () => {
    const key = 'datasets/big.bin';
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1000)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      etags.push(
        (await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: body })))
          .ETag as string,
      );
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const record = await waitFor(() => records.find((r) => r.s3.object.key === key), 'the multipart event');
    expect(record.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
    expect(record.s3.object.size).toBe(parts[0]!.length + parts[1]!.length);
    expect((await readObject(key)).equals(Buffer.concat(parts))).toBe(true);
  });

  it('reports removals, also from a batch delete (which s3rver itself does not report)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tmp/one', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tmp/two', Body: '2' }));
    const batch = await s3.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'tmp/one' }, { Key: 'tmp/two' }] } }),
    );
    // s3rver's parallel deletes under one prefix race on removing the emptied folder: a 500 the SDK would retry.
    expect(batch.$metadata.attempts).toBe(1);
    for (const key of ['tmp/one', 'tmp/two']) {
      const removed = await waitFor(
        () => records.find((r) => r.eventName === 'ObjectRemoved:Delete' && r.s3.object.key === key),
        key,
      );
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
    const post = await createPresignedPost(s3, {
      Bucket: BUCKET,
      Key: 'forms/upload.png',
      Fields: { 'Content-Type': 'image/png' },
      Expires: 60,
    });
    const preflight = await fetch(post.url, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    });
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

    const other = await fetch(post.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://elsewhere.example', 'access-control-request-method': 'POST' },
    });
    expect(other.status).toBe(403);
  });

  it("survives a form upload whose first part header is folded (CVE-2022-24434 in s3rver's dicer): 400, and serves on", async () => {
    const post = await createPresignedPost(s3, { Bucket: BUCKET, Key: 'forms/folded.png', Expires: 60 });
    const boundary = '----folded';
    // Signed fields (the guard reads them with the same parser first), the first part's header folded, no file.
    const parts = Object.entries(post.fields).map(
      ([name, value], i) =>
        `--${boundary}\r\n${i === 0 ? ' ' : ''}Content-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    );
    const answer = await fetch(post.url, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `${parts.join('')}--${boundary}--`,
    });
    expect(answer.status).toBe(400);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after-folded', Body: 'still here' }));
    expect((await readObject('after-folded')).toString()).toBe('still here');
  });

  it("parses XML bodies (s3rver's fast-xml-parser 3, CVE-2023-26920) without polluting the prototype of objects", async () => {
    const xml =
      '<Delete><__proto__><polluted>yes</polluted></__proto__><constructor><prototype><polluted>yes</polluted></prototype></constructor><Object><Key>none</Key></Object></Delete>';
    const answer = await signedS3(standIns.endpoints.s3, 'POST', `/${BUCKET}`, 'delete=', Buffer.from(xml), {
      'content-type': 'application/xml',
    });
    expect(answer.status).toBe(200);
    expect(({} as { polluted?: string }).polluted).toBeUndefined();
  });

  it("lists more than 1,000 keys page by page (s3rver's continuation tokens need single DES, which OpenSSL 3 lacks)", async () => {
    const keys = Array.from({ length: 1003 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50)
      await Promise.all(
        keys.slice(i, i + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }))),
      );
    const first = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/' }));
    expect(first.KeyCount).toBe(1000);
    expect(first.IsTruncated).toBe(true);
    const second = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/', ContinuationToken: first.NextContinuationToken }),
    );
    expect(second.Contents?.map((o) => o.Key)).toEqual(keys.slice(1000));
  });

  it("lists keys in S3's order across pages, where a key and a folder share a name (results/x.json beside results/x/)", async () => {
    const keys = Array.from({ length: 600 }, (_, i) => String(i).padStart(4, '0')).flatMap((n) => [
      `stems/${n}.json`,
      `stems/${n}/heatmap.png`,
    ]);
    for (let i = 0; i < keys.length; i += 50)
      await Promise.all(
        keys.slice(i, i + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }))),
      );
    const listed: string[] = [];
    for (let token: string | undefined, first = true; first || token; first = false) {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'stems/', ContinuationToken: token }),
      );
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
        await doc.send(
          new QueryCommand({
            TableName: 'jobs',
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': 'iter#1' },
          }),
        );
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
      sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );

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

    const credentials = standIns.credentials;
    s3.destroy();
    sqs.destroy();
    dynamodb.destroy();
    await standIns.stop();
    await standIns.stop(); // idempotent
    standIns = await startStandIns(options());
    // The same credentials, from the data folder, still 0600.
    expect(standIns.credentials).toEqual(credentials);
    expect((await stat(join(dataDir, 'aws-credentials'))).mode & 0o777).toBe(0o600);
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
      await expect(startStandIns({ ...base, ports: { s3: port } })).rejects.toThrow(
        new RegExp(`S3 stand-in .*port ${port} is already in use`),
      );
      await expect(startStandIns({ ...base, ports: { sqs: port } })).rejects.toThrow(
        new RegExp(`SQS stand-in .*port ${port} is already in use`),
      );
      await expect(startStandIns({ ...base, ports: { dynamodb: port } })).rejects.toThrow(
        new RegExp(`DynamoDB stand-in .*port ${port} is already in use`),
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});

/** A request as sent (path not normalised: fetch would resolve "..", node:http does not), signed unless `sign` is false. */
async function rawS3(
  method: string,
  path: string,
  o: { query?: string; body?: Buffer; headers?: Record<string, string>; sign?: boolean } = {},
): Promise<{ status: number; text: string }> {
  const url = new URL(standIns.endpoints.s3);
  const body = o.body ?? Buffer.alloc(0);
  let headers: Record<string, string> = { host: url.host, ...o.headers };
  if (o.sign !== false) {
    const signer = new SignatureV4({
      credentials: standIns.credentials,
      region: 'us-east-1',
      service: 's3',
      sha256: Sha256,
      uriEscapePath: false,
    });
    headers = { ...headers, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') };
    const signed = await signer.sign({
      method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query: decodeQuery(o.query ?? ''),
      headers,
      body,
    });
    headers = signed.headers as Record<string, string>;
  }
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path: o.query ? `${path}?${o.query}` : path, headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolvePromise({ status: res.statusCode!, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const signedS3 = (
  endpoint: string,
  method: string,
  path: string,
  query: string,
  body: Buffer,
  headers: Record<string, string>,
) => rawS3(method, path, { query, body, headers });

const failure = async (send: Promise<unknown>): Promise<{ name: string; status?: number }> => {
  const error = await send.then(
    () => undefined,
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
  );
  expect(error, 'the request should have been refused').toBeDefined();
  return { name: error!.name, status: error!.$metadata?.httpStatusCode };
};

const withCredentials = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
  const config = awsClientConfig({ ...standIns, credentials });
  return {
    s3: new S3Client({ ...config.s3, maxAttempts: 1 }),
    dynamodb: new DynamoDBClient({ ...config.dynamodb, maxAttempts: 1 }),
    sqs: new SQSClient({ ...config.sqs, maxAttempts: 1 }),
  };
};

/** The whole file list under a folder (small: the test's data folder). */
const filesUnder = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));

describe('the stand-ins answer only requests signed with their credentials', () => {
  it('refuses unsigned requests on each stand-in, as the service would', async () => {
    const list = await fetch(`${standIns.endpoints.s3}/${BUCKET}?list-type=2`);
    expect(list.status).toBe(403);
    expect(await list.text()).toContain('<Code>AccessDenied</Code>');
    const put = await rawS3('PUT', `/${BUCKET}/unsigned.txt`, { body: Buffer.from('x'), sign: false });
    expect(put.status).toBe(403);
    await expect(readObject('unsigned.txt')).rejects.toThrow();

    const target = { dynamodb: 'DynamoDB_20120810.ListTables', sqs: 'AmazonSQS.ListQueues' } as const;
    for (const service of ['dynamodb', 'sqs'] as const) {
      const answer = await fetch(standIns.endpoints[service], {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target[service] },
        body: '{}',
      });
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { __type: string }).__type).toBe(
        'com.amazon.coral.service#MissingAuthenticationTokenException',
      );
    }
  });

  it('refuses an unsigned or wrongly keyed large body from its headers, without reading the body', async () => {
    const DECLARED = 256 * 1024 * 1024;
    const SENT = 64 * 1024;
    /** Headers declaring a large body, then a little of it: the answer and the connection's end must come unasked. */
    const send = (endpoint: string, head: string) =>
      new Promise<{ status: number; ms: number; closed: boolean }>((resolvePromise, reject) => {
        const url = new URL(endpoint);
        const started = performance.now();
        const socket = tcpConnect(Number(url.port), url.hostname);
        let answer = '';
        const timer = setTimeout(() => {
          socket.destroy();
          resolvePromise({ status: Number(answer.split(' ')[1]), ms: performance.now() - started, closed: false });
        }, 3000);
        socket.on('data', (d) => (answer += d.toString('latin1')));
        socket.on('close', () => {
          clearTimeout(timer);
          resolvePromise({ status: Number(answer.split(' ')[1]), ms: performance.now() - started, closed: true });
        });
        socket.on('error', (error: NodeJS.ErrnoException) => {
          // The server may close while we still write: that is the point.
          if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
        });
        socket.write(`${head}host: ${url.host}\r\ncontent-length: ${DECLARED}\r\n\r\n`);
        socket.write(Buffer.alloc(SENT, 0x61));
      });
    const wrongKey =
      'authorization: AWS4-HMAC-SHA256 Credential=AKIA0000000000000000/20261202/us-east-1/SERVICE/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\n' +
      `x-amz-date: ${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}\r\n`;
    const cases = [
      { endpoint: standIns.endpoints.s3, head: `PUT /${BUCKET}/large-unsigned.bin HTTP/1.1\r\n`, status: 403 },
      {
        endpoint: standIns.endpoints.s3,
        head: `PUT /${BUCKET}/large-wrong-key.bin HTTP/1.1\r\n${wrongKey.replace('SERVICE', 's3')}x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n`,
        status: 403,
      },
      {
        endpoint: standIns.endpoints.dynamodb,
        head: 'POST / HTTP/1.1\r\nx-amz-target: DynamoDB_20120810.ListTables\r\ncontent-type: application/x-amz-json-1.0\r\n',
        status: 400,
      },
      {
        endpoint: standIns.endpoints.sqs,
        head: `POST / HTTP/1.1\r\n${wrongKey.replace('SERVICE', 'sqs')}x-amz-target: AmazonSQS.ListQueues\r\ncontent-type: application/x-amz-json-1.0\r\n`,
        status: 400,
      },
    ];
    for (const c of cases) {
      const answer = await send(c.endpoint, c.head);
      expect(answer, c.head).toMatchObject({ status: c.status, closed: true });
      expect(answer.ms).toBeLessThan(2000);
    }
    await expect(readObject('large-unsigned.bin')).rejects.toThrow();
  });

  it("refuses a wrong access key and a wrong secret on each stand-in, with the service's error", async () => {
    const wrongKey = withCredentials({
      accessKeyId: 'AKIA0000000000000000',
      secretAccessKey: standIns.credentials.secretAccessKey,
    });
    const wrongSecret = withCredentials({
      accessKeyId: standIns.credentials.accessKeyId,
      secretAccessKey: 'not-the-secret',
    });
    expect(await failure(wrongKey.s3.send(new ListObjectsV2Command({ Bucket: BUCKET })))).toEqual({
      name: 'InvalidAccessKeyId',
      status: 403,
    });
    expect(await failure(wrongSecret.s3.send(new ListObjectsV2Command({ Bucket: BUCKET })))).toEqual({
      name: 'SignatureDoesNotMatch',
      status: 403,
    });
    expect(
      await failure(wrongSecret.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'forged.txt', Body: 'x' }))),
    ).toEqual({ name: 'SignatureDoesNotMatch', status: 403 });
    await expect(readObject('forged.txt')).rejects.toThrow();
    expect(await failure(wrongKey.dynamodb.send(new ListTablesCommand({})))).toEqual({
      name: 'UnrecognizedClientException',
      status: 400,
    });
    expect(await failure(wrongSecret.dynamodb.send(new ListTablesCommand({})))).toEqual({
      name: 'InvalidSignatureException',
      status: 400,
    });
    expect(await failure(wrongKey.sqs.send(new ListQueuesCommand({})))).toEqual({
      name: 'InvalidClientTokenId',
      status: 400,
    });
    expect(await failure(wrongSecret.sqs.send(new ListQueuesCommand({})))).toEqual({
      name: 'SignatureDoesNotMatch',
      status: 400,
    });
    // The right ones still work.
    expect((await dynamodb.send(new ListTablesCommand({}))).TableNames).toContain('jobs');
    expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls?.length).toBe(2);
  });

  it("refuses a DynamoDB write of an APIKEY# item (an administrator's key) signed with the wrong secret", async () => {
    const forger = withCredentials({ accessKeyId: standIns.credentials.accessKeyId, secretAccessKey: 'guess' });
    const item = { pk: { S: 'APIKEY#forged' }, admin: { BOOL: true } };
    expect(await failure(forger.dynamodb.send(new PutItemCommand({ TableName: 'jobs', Item: item })))).toEqual({
      name: 'InvalidSignatureException',
      status: 400,
    });
    const documents = DynamoDBDocumentClient.from(dynamodb);
    expect(
      (await documents.send(new GetCommand({ TableName: 'jobs', Key: { pk: 'APIKEY#forged' } }))).Item,
    ).toBeUndefined();
  });

  it('takes presigned GET URLs until they expire, and refuses one whose key was changed', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned/ok.txt', Body: 'presigned body' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned/other.txt', Body: 'other body' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'presigned/ok.txt' }), {
      expiresIn: 60,
    });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('presigned body');

    const expired = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'presigned/ok.txt' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 10 * 60_000),
    });
    const late = await fetch(expired);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('<Message>Request has expired</Message>');

    const altered = await fetch(url.replace('ok.txt', 'other.txt'));
    expect(altered.status).toBe(403);
    expect(await altered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('refuses a presigned POST whose key, policy or signature is not the one signed, or whose policy expired', async () => {
    const post = await createPresignedPost(s3, {
      Bucket: BUCKET,
      Key: 'forms/allowed.png',
      Fields: { 'Content-Type': 'image/png' },
      Conditions: [['eq', '$Content-Type', 'image/png']],
      Expires: 60,
    });
    const send = (fields: Record<string, string>, url = post.url) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob([Buffer.from('png')], { type: 'image/png' }), 'x.png');
      return fetch(url, { method: 'POST', body: form });
    };
    const otherKey = await send({ ...post.fields, key: 'models/overwritten.bin' });
    expect(otherKey.status).toBe(403);
    expect(await otherKey.text()).toContain('Invalid according to Policy');
    const extraField = await send({ ...post.fields, 'x-amz-meta-owner': 'me' });
    expect(extraField.status).toBe(403);
    const { 'X-Amz-Signature': _signature, Policy: _policy, ...unsigned } = post.fields;
    expect((await send(unsigned)).status).toBe(403);
    expect((await send({ ...post.fields, 'X-Amz-Signature': '0'.repeat(64) })).status).toBe(403);
    const old = await createPresignedPost(s3, { Bucket: BUCKET, Key: 'forms/late.png', Expires: -60 });
    const late = await send(old.fields, old.url);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('Policy expired');
    await expect(readObject('models/overwritten.bin')).rejects.toThrow();
    expect((await send(post.fields)).status).toBe(204);
    expect((await readObject('forms/allowed.png')).toString()).toBe('png');
  });

  it('applies a presigned POST policy’s content-length-range: a larger or empty file is refused and not stored', async () => {
    const post = await createPresignedPost(s3, {
      Bucket: BUCKET,
      Key: 'forms/limited.bin',
      Conditions: [['content-length-range', 1, 1000]],
      Expires: 60,
    });
    const send = (bytes: number) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
      form.append('file', new Blob([new Uint8Array(bytes).fill(7)]), 'x.bin');
      return fetch(post.url, { method: 'POST', body: form });
    };
    const tooLarge = await send(300_000);
    expect(tooLarge.status).toBe(400);
    expect(await tooLarge.text()).toContain('<Code>EntityTooLarge</Code>');
    const empty = await send(0);
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('<Code>EntityTooSmall</Code>');
    await expect(readObject('forms/limited.bin')).rejects.toThrow();
    expect((await send(1000)).status).toBe(204);
    expect((await readObject('forms/limited.bin')).length).toBe(1000);
  });

  it('refuses to listen on an address other machines reach unless told to', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'faultline-stand-ins-public-'));
    try {
      await expect(startStandIns({ ...options(), dataDir: otherDir, host: '0.0.0.0' })).rejects.toThrow(
        /would listen on 0\.0\.0\.0.*FAULTLINE_STANDINS_PUBLIC=true/,
      );
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});

describe('S3 stand-in keys', () => {
  const alive = async () =>
    expect((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 1 }))).$metadata.httpStatusCode).toBe(
      200,
    );

  it('refuses the unsigned probe that ended the process (a 300-byte key segment) and serves on', async () => {
    expect(
      (await rawS3('PUT', `/${BUCKET}/tmp/${'A'.repeat(300)}`, { body: Buffer.from('x'), sign: false })).status,
    ).toBe(403);
    await alive();
  });

  it('stores and returns any key up to 1,024 bytes (long segments, many segments, multi-byte), and lists, copies and deletes it', async () => {
    const keys = [
      `tmp/${'A'.repeat(300)}`,
      `inbox/${'B'.repeat(341)}`, // 347 bytes
      `${'s'.repeat(99)}/`.repeat(10) + 'x'.repeat(24), // 1,024 bytes in 11 segments
      `multi/${'ü'.repeat(509)}`, // 1,024 bytes (UTF-8)
      'empty//segment',
      '/leading',
    ];
    expect(Buffer.byteLength(keys[1]!)).toBe(347);
    expect(Buffer.byteLength(keys[2]!)).toBe(1024);
    expect(Buffer.byteLength(keys[3]!)).toBe(1024);
    for (const [i, key] of keys.entries()) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `body ${i}` }));
      await alive();
      expect((await readObject(key)).toString()).toBe(`body ${i}`);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: key.slice(0, 5) }));
      expect(listed.Contents?.map((o) => o.Key)).toContain(key);
    }
    expect((await readObject('empty/segment').catch(() => Buffer.from('absent'))).toString()).toBe('absent');
    const copied = `copies/${'C'.repeat(400)}`;
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: copied, CopySource: `${BUCKET}/${keys[0]}` }));
    expect((await readObject(copied)).toString()).toBe('body 0');
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: copied }));
    await expect(readObject(copied)).rejects.toThrow();
    const multipart = `mp/${'M'.repeat(300)}`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: multipart }));
    const { ETag } = await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: multipart, UploadId, PartNumber: 1, Body: 'parts' }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: multipart,
        UploadId,
        MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] },
      }),
    );
    expect((await readObject(multipart)).toString()).toBe('parts');
  });

  it("refuses a key over 1,024 bytes with S3's KeyTooLongError", async () => {
    const key = `${'k'.repeat(1020)}/abcd`;
    expect(Buffer.byteLength(key)).toBe(1025);
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' })))).toEqual({
      name: 'KeyTooLongError',
      status: 400,
    });
    const raw = await rawS3('PUT', `/${BUCKET}/${'k'.repeat(1025)}`, { body: Buffer.from('x') });
    expect(raw.status).toBe(400);
    expect(raw.text).toContain('<Code>KeyTooLongError</Code>');
    await alive();
  });

  it('keeps keys with ".." inside the bucket folder, whichever way the dots are written, readable by the literal key', async () => {
    const bucketDir = join(dataDir, 's3', BUCKET);
    const forms = [
      'inbox/P/../../../../../trav-1.jpg',
      'inbox/P/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/trav-2.jpg',
      'inbox/P/..%2F..%2F..%2F..%2F..%2Ftrav-3.jpg',
    ];
    for (const [i, raw] of forms.entries()) {
      const put = await rawS3('PUT', `/${BUCKET}/${raw}`, { body: Buffer.from(`traversal ${i}`) });
      expect(put.status).toBe(200);
      const key = decodeURIComponent(raw);
      // Where s3rver's own layout would have put it: outside the bucket, the data folder, even the temp folder.
      await expect(stat(`${resolve(bucketDir, key)}._S3rver_object`)).rejects.toThrow();
      expect((await readObject(key)).toString()).toBe(`traversal ${i}`);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'inbox/P/' }));
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual(forms.map((f) => decodeURIComponent(f)).sort());
    for (const file of await filesUnder(join(dataDir, 's3'))) expect(file.startsWith(`${bucketDir}/`)).toBe(true);
    for (const key of forms.map((f) => decodeURIComponent(f)))
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    expect((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'inbox/P/' }))).KeyCount).toBe(0);
  });

  it('refuses multipart uploads whose upload id or part is not one it made, and serves on', async () => {
    expect(
      await failure(
        s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: 'mp/x',
            UploadId: '../../../../../escaped',
            PartNumber: 1,
            Body: 'x',
          }),
        ),
      ),
    ).toEqual({ name: 'NoSuchUpload', status: 404 });
    const bucketDir = join(dataDir, 's3', BUCKET);
    await expect(stat(resolve(bucketDir, '._S3rver_uploads', '../../../../../escaped'))).rejects.toThrow();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp/missing-part' }));
    const complete = s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'mp/missing-part',
        UploadId,
        MultipartUpload: { Parts: [{ ETag: '"00"', PartNumber: 7 }] },
      }),
    );
    expect(await failure(complete)).toEqual({ name: 'InvalidPart', status: 400 });
    await alive();
  });
});

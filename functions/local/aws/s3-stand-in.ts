import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { S3Event } from 'aws-lambda';
import S3rver from 's3rver';
import { guardDicer } from './dicer-guard.ts';
import { provideSingleDes } from './s3rver-des.ts';
import { listInKeyOrder } from './s3rver-listing.ts';
import { storeAnyKey } from './s3rver-store.ts';
import { closeServer, listen } from '../listen.ts';
import { type ObjectEventName, s3Notification } from './s3-notification.ts';
import { signedS3Requests } from './stand-in-auth.ts';
import type { AwsCredentials } from './stand-in-credentials.ts';

/**
 * S3 on one machine: s3rver, files on disk, one bucket, and a notification for every object created or removed in
 * it. s3rver's own `run()` is not used: it leaves a failed listen as an unhandled 'error' event (the process dies
 * instead of the caller hearing "port in use"), so its request listener is mounted on a server of our own.
 */

export interface S3StandInOptions {
  directory: string;
  host: string;
  port: number;
  region: string;
  bucket: string;
  /** Browser origins allowed to GET/PUT/POST/HEAD the bucket; unset leaves the bucket's CORS config as it is. */
  corsAllowedOrigins?: string[];
  /** The one key it answers; anything not signed with it is refused (stand-in-auth.ts). */
  credentials: AwsCredentials;
  /** Called for each change; it must not throw (the caller wraps it). */
  onEvent(event: S3Event): void;
  /** Where a request that failed inside s3rver (a 500) is reported. */
  log(line: Record<string, unknown>): void;
}

export interface S3StandIn {
  port: number;
  stop(): Promise<void>;
}

const xmlEscape = (text: string): string =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string,
  );

/** One rule for the given origins, as a page uploading with a presigned POST or PUT needs. */
function corsConfiguration(origins: string[]): string {
  const allowed = origins.map((o) => `<AllowedOrigin>${xmlEscape(o)}</AllowedOrigin>`).join('');
  const methods = ['GET', 'HEAD', 'PUT', 'POST'].map((m) => `<AllowedMethod>${m}</AllowedMethod>`).join('');
  return (
    `<CORSConfiguration><CORSRule>${allowed}${methods}<AllowedHeader>*</AllowedHeader>` +
    `<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`
  );
}

interface AwsAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  revokeAccessKey(accessKeyId: string): void;
}

/**
 * s3rver's own check (after ours) looks the access key up in its account registry, which knows only S3RVER/S3RVER:
 * ours is added there and that one removed, so no request gets through with it.
 */
function useAccessKey(credentials: AwsCredentials): () => void {
  const fromS3rver = createRequire(createRequire(import.meta.url).resolve('s3rver'));
  const account = (fromS3rver('./models/account') as { DUMMY_ACCOUNT: AwsAccount }).DUMMY_ACCOUNT;
  account.revokeAccessKey('S3RVER');
  account.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  return () => account.revokeAccessKey(credentials.accessKeyId);
}

/**
 * s3rver's router matches a key only when none of its segments is empty, so "a//b" or "/a" (keys S3 takes) were a 404.
 * The router decodes the key it captures, so a slash written as %2F after another slash keeps the key as it was.
 */
export const keepEmptySegments = (url: string): string => {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  const bucketEnd = path.indexOf('/', 1);
  if (bucketEnd < 0) return url;
  const key = path.slice(bucketEnd + 1).replace(/(?<=^|\/)\//g, '%2F');
  return `${path.slice(0, bucketEnd + 1)}${key}${at < 0 ? '' : url.slice(at)}`;
};

const unquote = (etag: unknown): string | undefined => (typeof etag === 'string' ? etag.replace(/"/g, '') : undefined);

export async function startS3StandIn(o: S3StandInOptions): Promise<S3StandIn> {
  guardDicer();
  provideSingleDes();
  // Before listInKeyOrder, which sorts and pages what this store's listing returns.
  storeAnyKey();
  listInKeyOrder();
  await mkdir(o.directory, { recursive: true });
  const s3rver = new S3rver({
    directory: o.directory,
    silent: true,
    // Clients use path-style URLs; without this a Host such as "my-machine:4568" is read as a bucket name.
    vhostBuckets: false,
    configureBuckets: [
      { name: o.bucket, configs: o.corsAllowedOrigins?.length ? [corsConfiguration(o.corsAllowedOrigins)] : [] },
    ],
  });
  await s3rver.configureBuckets();

  const store = s3rver.store;
  const emit = (
    eventName: ObjectEventName,
    bucket: string,
    key: string,
    sourceIp: string,
    size?: number,
    eTag?: string,
  ) => {
    if (bucket !== o.bucket) return;
    o.onEvent(
      s3Notification({
        eventName,
        bucket,
        key,
        size,
        eTag,
        sourceIp: sourceIp.replace(/^::ffff:/, ''),
        region: o.region,
      }),
    );
  };

  // Removals are reported from the store, because s3rver's DeleteObjects (batch) emits no events at all.
  const deleteObject = store.deleteObject.bind(store);
  store.deleteObject = async (bucket, key) => {
    try {
      await deleteObject(bucket, key);
    } catch (error) {
      // After removing the files s3rver removes folders left empty; two deletes under one prefix (a batch delete
      // runs them in parallel) race there and the loser fails with the object already gone: a 500 for nothing.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY') throw error;
    }
    emit('ObjectRemoved:Delete', bucket, key, '127.0.0.1');
  };

  // s3rver calls a completed multipart upload "ObjectCreated:Post"; S3 says CompleteMultipartUpload. The event that
  // follows a completion carries the MD5 the completion returned, which tells the two apart.
  const completedUploads = new Set<string>();
  const putObjectMultipart = store.putObjectMultipart.bind(store);
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const stored = await putObjectMultipart(bucket, uploadId, parts);
    completedUploads.add(`${bucket}/${stored.md5}`);
    return stored;
  };

  s3rver.on('event', (event: S3rver.EmittedEvent) => {
    void (async () => {
      for (const record of event.Records) {
        if (!record.eventName.startsWith('ObjectCreated:')) continue;
        const { bucket, object } = record.s3;
        // s3rver leaves the ETag out of copy events; S3 has it.
        const eTag =
          object.eTag ?? unquote((await store.getMetadata(bucket.name, object.key).catch(() => undefined))?.etag);
        const multipart =
          record.eventName === 'ObjectCreated:Post' && completedUploads.delete(`${bucket.name}/${eTag}`);
        const eventName = multipart ? 'ObjectCreated:CompleteMultipartUpload' : (record.eventName as ObjectEventName);
        emit(eventName, bucket.name, object.key, record.requestParameters.sourceIPAddress, object.size, eTag);
      }
    })();
  });

  // Koa hands every error of a request here (s3rver, silent, would drop them): a 500 is logged; the 4xx are answers.
  s3rver.on('error', (error: Error & { status?: number }, ctx?: { method?: string; path?: string }) => {
    if ((error.status ?? 500) >= 500)
      o.log({
        level: 'error',
        msg: 'S3 stand-in request failed',
        method: ctx?.method,
        path: ctx?.path,
        error: error.stack ?? String(error),
      });
  });
  const forget = useAccessKey(o.credentials);
  const answer = s3rver.callback();
  const server = createServer(
    signedS3Requests((req, res) => answer(Object.assign(req, { url: keepEmptySegments(req.url ?? '/') }), res), {
      credentials: o.credentials,
      log: o.log,
    }),
  );
  let port: number;
  try {
    port = await listen(server, o.port, o.host, 'S3 stand-in (s3rver)');
  } catch (error) {
    s3rver.removeAllListeners('event');
    forget();
    throw error;
  }
  // After listen, which reports its own errors: a later one (too many open files) is logged, not the process's end.
  server.on('error', (error) =>
    o.log({ level: 'error', msg: 'S3 stand-in server error', error: error.stack ?? String(error) }),
  );
  return {
    port,
    stop: async () => {
      await closeServer(server);
      forget();
    },
  };
}

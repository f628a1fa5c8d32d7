import { mkdir, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Event } from 'aws-lambda';
import S3rver from 's3rver';
import { guardDicer } from './dicer-guard.ts';
import { provideSingleDes } from './s3rver-des.ts';
import { listInKeyOrder } from './s3rver-listing.ts';
import { closeServer, listen } from './listen.ts';
import { type ObjectEventName, s3Notification } from './s3-notification.ts';

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
  /** Called for each change; it must not throw (the caller wraps it). */
  onEvent(event: S3Event): void;
}

export interface S3StandIn {
  port: number;
  stop(): Promise<void>;
}

const xmlEscape = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);

/** One rule for the given origins, as a page uploading with a presigned POST or PUT needs. */
function corsConfiguration(origins: string[]): string {
  const allowed = origins.map((o) => `<AllowedOrigin>${xmlEscape(o)}</AllowedOrigin>`).join('');
  const methods = ['GET', 'HEAD', 'PUT', 'POST'].map((m) => `<AllowedMethod>${m}</AllowedMethod>`).join('');
  return (
    `<CORSConfiguration><CORSRule>${allowed}${methods}<AllowedHeader>*</AllowedHeader>` +
    `<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`
  );
}

const unquote = (etag: unknown): string | undefined => (typeof etag === 'string' ? etag.replace(/"/g, '') : undefined);

export async function startS3StandIn(o: S3StandInOptions): Promise<S3StandIn> {
  guardDicer();
  provideSingleDes();
  listInKeyOrder();
  await mkdir(o.directory, { recursive: true });
  const s3rver = new S3rver({
    directory: o.directory,
    silent: true,
    // Clients use path-style URLs; without this a Host such as "my-machine:4568" is read as a bucket name.
    vhostBuckets: false,
    configureBuckets: [{ name: o.bucket, configs: o.corsAllowedOrigins?.length ? [corsConfiguration(o.corsAllowedOrigins)] : [] }],
  });
  await s3rver.configureBuckets();

  const store = s3rver.store;
  const emit = (eventName: ObjectEventName, bucket: string, key: string, sourceIp: string, size?: number, eTag?: string) => {
    if (bucket !== o.bucket) return;
    o.onEvent(s3Notification({ eventName, bucket, key, size, eTag, sourceIp: sourceIp.replace(/^::ffff:/, ''), region: o.region }));
  };

  // s3rver resolves putObject when the bytes have passed its MD5 hash, not when the file is written. Its metadata
  // writes after that make a short read unlikely, but nothing orders them, and a handler reads the object as soon
  // as it hears of it: wait until the file has its full size.
  const putObject = store.putObject.bind(store);
  store.putObject = async (object) => {
    const stored = await putObject(object);
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    for (let waited = 0; waited < 10_000; waited += 5) {
      if ((await stat(path).catch(() => undefined))?.size === stored.size) break;
      await sleep(5);
    }
    return stored;
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
        const eTag = object.eTag ?? unquote((await store.getMetadata(bucket.name, object.key).catch(() => undefined))?.etag);
        const multipart = record.eventName === 'ObjectCreated:Post' && completedUploads.delete(`${bucket.name}/${eTag}`);
        const eventName = multipart ? 'ObjectCreated:CompleteMultipartUpload' : (record.eventName as ObjectEventName);
        emit(eventName, bucket.name, object.key, record.requestParameters.sourceIPAddress, object.size, eTag);
      }
    })();
  });

  const server = createServer(s3rver.callback());
  let port: number;
  try {
    port = await listen(server, o.port, o.host, 'S3 stand-in (s3rver)');
  } catch (error) {
    s3rver.removeAllListeners('event');
    throw error;
  }
  return { port, stop: () => closeServer(server) };
}

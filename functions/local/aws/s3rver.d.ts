// s3rver ships no types: only what the local stand-ins use (s3rver 3.7.1, lib/s3rver.js and lib/stores/filesystem.js).
declare module 's3rver' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  namespace S3rver {
    interface BucketConfig {
      name: string;
      /** CORSConfiguration or WebsiteConfiguration XML documents. */
      configs?: Array<string | Buffer>;
    }

    interface Options {
      address?: string;
      port?: number;
      silent?: boolean;
      directory?: string;
      resetOnClose?: boolean;
      allowMismatchedSignatures?: boolean;
      /** Treat a Host that is not an IP or localhost as `<bucket>` (virtual-host style); default true. */
      vhostBuckets?: boolean;
      serviceEndpoint?: string;
      configureBuckets?: BucketConfig[];
    }

    /** The S3 notification s3rver emits as `event` (lib/models/event.js). */
    interface EmittedEvent {
      Records: Array<{
        eventName: string;
        requestParameters: { sourceIPAddress: string };
        s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
      }>;
    }

    /** What FilesystemStore.listObjects takes and gives. */
    interface ListOptions {
      delimiter?: string;
      startAfter?: string;
      prefix?: string;
      maxKeys?: number;
    }
    interface ListResult {
      objects: { key: string }[];
      commonPrefixes: string[];
      isTruncated: boolean;
    }

    interface FilesystemStore {
      /** Resolves once the bytes have gone through its hash; the file write may still be in flight. */
      putObject(object: { bucket: string; key: string }): Promise<{ size: number; md5: string }>;
      /** Assembles the parts through putObject; `md5` is of the whole object (S3 would say "<hex>-<parts>"). */
      putObjectMultipart(
        bucket: string,
        uploadId: string,
        parts: Array<{ number: number; etag: string }>,
      ): Promise<{ size: number; md5: string }>;
      deleteObject(bucket: string, key: string): Promise<void>;
      /** Throws when the object does not exist; `etag` is the quoted MD5. */
      getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
      getResourcePath(bucket: string, key: string, resource: string): string;
    }
  }

  class S3rver extends EventEmitter {
    constructor(options?: S3rver.Options);
    readonly store: S3rver.FilesystemStore;
    /** Creates the buckets of `configureBuckets` (and applies their configs) straight on disk. */
    configureBuckets(): Promise<void>;
    /** The Koa request listener, for an http.Server of one's own. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }

  export = S3rver;
}

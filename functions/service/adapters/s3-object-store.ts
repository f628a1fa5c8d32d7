import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectStore, PresignedPost, StoredObject } from '../ports/object-store.ts';

/** The object store on the S3 API (AWS S3, or s3rver locally). */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    /** Client for presigning when clients reach S3 at another address than this process does. */
    private readonly presignClient: S3Client = client,
  ) {}

  async put(key: string, body: Uint8Array | string, contentType?: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await out.Body!.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async getAtMost(key: string, maxBytes: number): Promise<Uint8Array | { tooLarge: number } | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const size = out.ContentLength ?? 0;
      if (size > maxBytes) {
        // Dropped unread: the connection is closed rather than the body drained.
        (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
        return { tooLarge: size };
      }
      return await out.Body!.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body as AsyncIterable<Uint8Array>;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: out.ETag?.replaceAll('"', ''),
        lastModified: out.LastModified,
        contentType: out.ContentType,
      };
    } catch (error) {
      if (
        error instanceof NotFound ||
        (error as { name?: string }).name === 'NotFound' ||
        (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      )
        return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(
      new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: [{ Key: key }], Quiet: true } }),
    );
  }

  async move(from: string, to: string, metadata: Record<string, string>): Promise<boolean> {
    const head = await this.head(from);
    if (!head) return false;
    const source = `${this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: to,
        CopySource: source,
        MetadataDirective: 'REPLACE',
        Metadata: metadata,
        ContentType: head.contentType,
      }),
    );
    await this.delete(from);
    return true;
  }

  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let cursor: string | undefined;
    do {
      const page = await this.list(prefix, { limit: 1000, cursor });
      if (page.objects.length > 0) {
        await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: page.objects.map((o) => ({ Key: o.key })), Quiet: true },
          }),
        );
        deleted += page.objects.length;
      }
      cursor = page.cursor;
    } while (cursor);
    return deleted;
  }

  async list(
    prefix: string,
    options: { limit?: number; cursor?: string } = {},
  ): Promise<{ objects: StoredObject[]; cursor?: string }> {
    const out = await this.client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix,
        MaxKeys: options.limit ?? 1000,
        ContinuationToken: options.cursor,
      }),
    );
    const objects = (out.Contents ?? []).map((o) => ({
      key: o.Key!,
      size: o.Size ?? 0,
      etag: o.ETag?.replaceAll('"', ''),
      lastModified: o.LastModified,
    }));
    return { objects, cursor: out.IsTruncated ? out.NextContinuationToken : undefined };
  }

  presignGet(key: string, expiresSeconds: number): Promise<string> {
    return getSignedUrl(this.presignClient, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: expiresSeconds,
    });
  }

  async presignPost(
    key: string,
    c: { contentType: string; maxBytes: number; expiresSeconds: number },
  ): Promise<PresignedPost> {
    const { url, fields } = await createPresignedPost(this.presignClient, {
      Bucket: this.bucket,
      Key: key,
      Conditions: [
        ['content-length-range', 1, c.maxBytes],
        ['eq', '$Content-Type', c.contentType],
      ],
      Fields: { 'Content-Type': c.contentType },
      Expires: c.expiresSeconds,
    });
    return { url, fields };
  }
}

import type S3rver from 's3rver';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Where s3rver keeps objects on disk, made safe for any key S3 takes. s3rver writes key "a/b/c" as the file
 * BUCKET/a/b/c._S3rver_object: a key segment of ".." left the bucket (and the data folder), a segment longer than the
 * file system's 255-byte names failed in a write stream nobody listened to (the process died), and "a//b" or "/a"
 * shared a file with "a/b" or "a". Now a key whose every folder segment is an ordinary name (not empty, "." or "..",
 * at most 200 bytes, no NUL) is kept where s3rver always kept it; any other key is kept under BUCKET/.faultline-keys/,
 * named by its base64url spelling cut into 200-character folders, from which listing reads the key back. Keys over
 * S3's 1,024 bytes are refused with S3's KeyTooLongError. Uploads and parts are written through pipelines that report
 * every error to the request, into a temporary file renamed into place, so a reader never sees half an object.
 */

export const MAX_KEY_BYTES = 1024;
/** Leaves room for s3rver's longest suffix ("._S3rver_metadata.json", 22 bytes) and a temporary file's within 255. */
const MAX_SEGMENT_BYTES = 200;
export const MAPPED_FOLDER = '.faultline-keys';
const OBJECT_SUFFIX = '._S3rver_object';

/** Whether s3rver's own layout keeps `key` inside its bucket folder, in a file of its own. */
export function isPlainKey(key: string): boolean {
  const segments = key.split('/');
  if (segments.length > 1 && segments[0] === MAPPED_FOLDER) return false;
  return segments.every((segment, i) => {
    if (segment.includes('\0') || Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return false;
    // The last segment is part of a file name (with s3rver's suffix), so even "" or ".." is a name there.
    return i === segments.length - 1 || (segment !== '' && segment !== '.' && segment !== '..');
  });
}

const chunks = (text: string, size: number): string[] =>
  Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

/** BUCKET/.faultline-keys/<base64url of the key, 200 characters a folder>._S3rver_<resource>. */
function mappedPath(bucketPath: string, key: string, resource: string): string {
  const parts = chunks(Buffer.from(key, 'utf8').toString('base64url'), MAX_SEGMENT_BYTES);
  const last = parts.pop()!;
  return join(bucketPath, MAPPED_FOLDER, ...parts, `${last}._S3rver_${resource}`);
}

/** The keys kept under BUCKET/.faultline-keys/. */
async function mappedKeys(bucketPath: string): Promise<string[]> {
  const top = join(bucketPath, MAPPED_FOLDER);
  const files = await readdir(top, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return files
    .filter((f) => f.endsWith(OBJECT_SUFFIX))
    .map((f) => Buffer.from(f.slice(0, -OBJECT_SUFFIX.length).split(sep).join(''), 'base64url').toString('utf8'));
}

interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | NodeJS.ReadableStream;
  metadata: Record<string, unknown>;
}
type ListOptions = S3rver.ListOptions;
type ListResult = S3rver.ListResult;
interface Store {
  rootDirectory: string;
  getBucketPath(bucket: string): string;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  deleteObject(bucket: string, key: string): Promise<void>;
  listObjects(bucket: string, options: ListOptions): Promise<ListResult>;
  initiateUpload(bucket: string, key: string, uploadId: string, metadata: Record<string, unknown>): Promise<void>;
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: unknown,
    content: NodeJS.ReadableStream,
  ): Promise<{ size: number; md5: string }>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: Array<{ number: number; etag: string }>,
  ): Promise<{ size: number; md5: string }>;
}

const ignoreMissing = (error: NodeJS.ErrnoException) => {
  if (error.code !== 'ENOENT') throw error;
};

/** Writes `content` to `path` (via a temporary file beside it), with its size and MD5; every error rejects. */
async function writeHashed(
  path: string,
  content: Buffer | NodeJS.ReadableStream,
): Promise<{ size: number; md5: string }> {
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.${randomBytes(4).toString('hex')}~`;
  const md5 = createHash('md5');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Buffer.isBuffer(content) ? Readable.from([content]) : content, measure, createWriteStream(partial));
    await rename(partial, path);
  } catch (error) {
    await unlink(partial).catch(() => undefined);
    throw error;
  }
  return { size, md5: md5.digest('hex') };
}

export function storeAnyKey(): void {
  const fromS3rver = createRequire(createRequire(import.meta.url).resolve('s3rver'));
  const FilesystemStore = fromS3rver('./stores/filesystem') as { prototype: Store & { __faultlineAnyKey?: boolean } };
  const S3Object = fromS3rver('./models/object') as new (
    bucket: string,
    key: string,
    content: null,
    metadata: Record<string, unknown>,
  ) => { key: string };
  const S3Error = fromS3rver('./models/error') as new (
    code: string,
    message: string,
    detail?: Record<string, unknown>,
  ) => Error;
  const proto = FilesystemStore.prototype;
  if (proto.__faultlineAnyKey) return;

  const uploadDir = (store: Store, bucket: string, uploadId: unknown): string => {
    // s3rver's own ids are 32 hex digits; anything else is a path it would have followed (uploadId=../../x).
    if (typeof uploadId !== 'string' || !/^[0-9a-f]{32}$/.test(uploadId))
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: String(uploadId) });
    return join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  };

  const resourcePath = proto.getResourcePath;
  proto.getResourcePath = function anyKey(this: Store, bucket, key, resource) {
    if (!key) return resourcePath.call(this, bucket, key, resource);
    const bytes = Buffer.byteLength(key);
    if (bytes > MAX_KEY_BYTES)
      throw new S3Error('KeyTooLongError', 'Your key is too long', { Size: bytes, MaxSizeAllowed: MAX_KEY_BYTES });
    return isPlainKey(key)
      ? resourcePath.call(this, bucket, key, resource)
      : mappedPath(this.getBucketPath(bucket), key, resource);
  };

  proto.putObject = async function putObject(this: Store, object) {
    const stored = await writeHashed(this.getResourcePath(object.bucket, object.key, 'object'), object.content);
    await this.putMetadata(object.bucket, object.key, object.metadata, stored.md5);
    return stored;
  };

  const deleteObject = proto.deleteObject;
  proto.deleteObject = async function anyKeyDelete(this: Store, bucket, key) {
    if (isPlainKey(key)) return deleteObject.call(this, bucket, key);
    const objectPath = this.getResourcePath(bucket, key, 'object');
    await Promise.all(
      ['object', 'object.md5', 'metadata.json'].map((r) =>
        unlink(this.getResourcePath(bucket, key, r)).catch(ignoreMissing),
      ),
    );
    // Folders left empty go, up to the mapped folder and never past it; a racing write or delete just stops this.
    const top = join(this.getBucketPath(bucket), MAPPED_FOLDER);
    for (let dir = dirname(objectPath); dir.startsWith(top + sep); dir = dirname(dir)) {
      if (
        !(await rmdir(dir).then(
          () => true,
          () => false,
        ))
      )
        break;
    }
  };

  const listObjects = proto.listObjects;
  proto.listObjects = async function anyKeyList(this: Store, bucket, options) {
    // s3rver walks into the mapped folder as if its files were keys (no plain key starts with it): their metadata
    // is not read (they would be refused as too long), they are dropped as gone.
    const storage = (key: string) => key.startsWith(`${MAPPED_FOLDER}/`);
    const gone = Object.assign(new Error('not a key'), { code: 'ENOENT' });
    const walker = Object.create(this, {
      getMetadata: { value: (b: string, k: string) => (storage(k) ? Promise.reject(gone) : this.getMetadata(b, k)) },
    }) as Store;
    const listed = await listObjects.call(walker, bucket, { ...options, maxKeys: Number.POSITIVE_INFINITY });
    const { prefix = '', startAfter = '', delimiter = '' } = options;
    const objects = listed.objects.filter((o) => !storage(o.key));
    const commonPrefixes = new Set(listed.commonPrefixes.filter((p) => !storage(p)));
    for (const key of await mappedKeys(this.getBucketPath(bucket))) {
      if (key <= startAfter || !key.startsWith(prefix)) continue;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut !== -1) {
        commonPrefixes.add(key.slice(0, cut + delimiter.length));
        continue;
      }
      const metadata = await this.getMetadata(bucket, key).catch((error: NodeJS.ErrnoException) =>
        error.code === 'ENOENT' ? undefined : Promise.reject(error),
      );
      if (metadata) objects.push(new S3Object(bucket, key, null, metadata));
    }
    objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const maxKeys = options.maxKeys ?? Number.POSITIVE_INFINITY;
    return {
      objects: objects.slice(0, maxKeys),
      commonPrefixes: [...commonPrefixes].sort(),
      isTruncated: objects.length > maxKeys,
    };
  };

  const initiateUpload = proto.initiateUpload;
  proto.initiateUpload = async function checkedInitiate(this: Store, bucket, key, uploadId, metadata) {
    this.getResourcePath(bucket, key, 'object'); // refuses a key S3 refuses, before any part is sent
    return initiateUpload.call(this, bucket, key, uploadId, metadata);
  };

  proto.putPart = async function putPart(this: Store, bucket, uploadId, partNumber, content) {
    const dir = uploadDir(this, bucket, uploadId);
    const number = Number(partNumber);
    if (!Number.isInteger(number) || number < 1 || number > 10_000) {
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
        ArgumentName: 'partNumber',
        ArgumentValue: String(partNumber),
      });
    }
    if (
      !(await stat(join(dir, 'key')).then(
        () => true,
        () => false,
      ))
    )
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
    const partPath = join(dir, String(number));
    const stored = await writeHashed(partPath, content);
    await writeFile(`${partPath}.md5`, stored.md5);
    return stored;
  };

  const putObjectMultipart = proto.putObjectMultipart;
  proto.putObjectMultipart = async function checkedComplete(this: Store, bucket, uploadId, parts) {
    const dir = uploadDir(this, bucket, uploadId);
    if (
      !(await stat(join(dir, 'key')).then(
        () => true,
        () => false,
      ))
    )
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
    // s3rver reads each part with a stream nobody listens to for errors: a part never uploaded ended the process.
    for (const part of parts) {
      const md5 = await readFile(join(dir, `${part.number}.md5`), 'utf8').catch(() => undefined);
      if (!Number.isInteger(part.number) || md5 === undefined || (part.etag && part.etag !== md5)) {
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
          { PartNumber: part.number, ETag: part.etag },
        );
      }
    }
    return putObjectMultipart.call(this, bucket, uploadId, parts);
  };

  proto.__faultlineAnyKey = true;
}

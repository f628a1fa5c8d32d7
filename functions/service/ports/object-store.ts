/** Where images, models and results live: S3 in AWS, s3rver locally (both through the S3 API). */
export interface StoredObject {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
  contentType?: string;
}

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

export interface ObjectStore {
  readonly bucket: string;
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  /** The object's bytes; undefined when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * The object's bytes in one request when it is at most maxBytes long: its length is read from the answer's headers
   * before the body, and a longer object's body is not read ({ tooLarge: size }); undefined when it does not exist.
   */
  getAtMost(key: string, maxBytes: number): Promise<Uint8Array | { tooLarge: number } | undefined>;
  /** The object's bytes as they arrive (large files, never held whole); undefined when it is not there. */
  getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  head(key: string): Promise<StoredObject | undefined>;
  delete(key: string): Promise<void>;
  /** Moves an object to another key with these metadata (ASCII values), keeping its content type. False when it is gone. */
  move(from: string, to: string, metadata: Record<string, string>): Promise<boolean>;
  /** Deletes every object under the prefix; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  list(
    prefix: string,
    options?: { limit?: number; cursor?: string },
  ): Promise<{ objects: StoredObject[]; cursor?: string }>;
  presignGet(key: string, expiresSeconds: number): Promise<string>;
  /** A browser-style POST upload of one object, limited to a content type and a size. */
  presignPost(
    key: string,
    conditions: { contentType: string; maxBytes: number; expiresSeconds: number },
  ): Promise<PresignedPost>;
}

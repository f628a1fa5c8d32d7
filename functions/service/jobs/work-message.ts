import type { S3Event } from 'aws-lambda';
import { z } from 'zod';
import { jobMessageSchema } from '../domain/job.ts';
import { encodeS3Key } from '../object-keys.ts';

/** One S3 notification record, as the worker acts on it. */
export interface ObjectEvent {
  event: string;
  bucket: string;
  key: string;
  version: string;
}

/**
 * The work queue's message format: what a message can be (a job of ours, an S3 notification for the drop folder or
 * the datasets, or S3's test event), parsed at the edge. Handlers switch over `kind` to its end (a `never` check),
 * so a new kind cannot be dropped silently.
 */
export type WorkMessage =
  | { kind: 'job'; jobId: string }
  | { kind: 's3'; records: ObjectEvent[] }
  | { kind: 'test' }
  | { kind: 'unknown'; reason: string };

const s3EventSchema = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({
        bucket: z.object({ name: z.string() }),
        object: z.object({ key: z.string(), eTag: z.string().optional(), sequencer: z.string().optional() }),
      }),
    }),
  ),
});

export function parseWorkMessage(body: string): WorkMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'unknown', reason: 'not JSON' };
  }
  const job = jobMessageSchema.safeParse(json);
  if (job.success) return job.data;
  if ((json as { Event?: string })?.Event === 's3:TestEvent') return { kind: 'test' };
  const s3 = s3EventSchema.safeParse(json);
  if (s3.success) {
    return {
      kind: 's3',
      records: (s3.data.Records as unknown as S3Event['Records']).map((r) => ({
        event: r.eventName,
        bucket: r.s3.bucket.name,
        key: r.s3.object.key,
        // The object's version for idempotency (its ETag, which a listing shows too): a re-upload with new content is new work, a repeated event is not.
        version: r.s3.object.eTag ?? r.s3.object.sequencer ?? '',
      })),
    };
  }
  return { kind: 'unknown', reason: 'neither a job message nor an S3 notification' };
}

/** The notification S3 sends for a stored object (key URL-encoded, slashes kept), for work whose notification was lost. */
export function objectCreatedMessage(
  bucket: string,
  o: { key: string; etag?: string; size: number },
): { Records: unknown[] } {
  const key = encodeS3Key(o.key);
  return {
    Records: [
      { eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key, eTag: o.etag, size: o.size } } },
    ],
  };
}

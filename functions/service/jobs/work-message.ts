import type { S3Event } from 'aws-lambda';
import { z } from 'zod';
import { jobMessageSchema } from '../service/domain/job.ts';

/** What a queue message can be: a job of ours, an S3 notification (the drop folder), or S3's test event. */
export type WorkMessage =
  | { kind: 'job'; jobId: string }
  | { kind: 's3'; records: { event: string; bucket: string; key: string; version: string }[] }
  | { kind: 'test' }
  | { kind: 'unknown'; reason: string };

const s3EventSchema = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string(), eTag: z.string().optional(), sequencer: z.string().optional() }) }),
    }),
  ),
});

/** The idempotency key of the detection job for one version of an inbox object (as a notification names it). */
export const inboxJobKey = (bucket: string, key: string, version: string): string => `s3:${bucket}/${key}#${version}`;

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

import { randomBytes } from 'node:crypto';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { encodeS3Key } from '../../service/object-keys.ts';

/**
 * S3 event notifications as S3 itself sends them to Lambda, so the service's S3 handler runs locally on the same
 * input. s3rver's own events differ in small ways that matter to a handler (raw key, fixed region, `arn:aws:s3: : :`),
 * so they are rebuilt here from the facts of the change.
 */

export type ObjectEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Post'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload'
  | 'ObjectRemoved:Delete';

export interface ObjectChange {
  eventName: ObjectEventName;
  bucket: string;
  /** The key as stored (not encoded). */
  key: string;
  /** Bytes and unquoted MD5 hex; removals have neither, as in S3. */
  size?: number;
  eTag?: string;
  sourceIp: string;
  region: string;
}

// S3 sequencers only grow (per key); one counter for the process, started from the clock, keeps that across restarts.
let sequence = BigInt(Date.now()) << 16n;
const nextSequencer = (): string => (++sequence).toString(16).toUpperCase().padStart(16, '0');

const hex = (bytes: number): string => randomBytes(bytes).toString('hex').toUpperCase();

export function s3Notification(change: ObjectChange): S3Event {
  const object = { key: encodeS3Key(change.key), sequencer: nextSequencer() } as S3EventRecord['s3']['object'];
  if (change.size !== undefined) object.size = change.size;
  if (change.eTag !== undefined) object.eTag = change.eTag;
  const record: S3EventRecord = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: change.region,
    eventTime: new Date().toISOString(),
    eventName: change.eventName,
    userIdentity: { principalId: 'AWS:LOCAL' },
    requestParameters: { sourceIPAddress: change.sourceIp },
    responseElements: { 'x-amz-request-id': hex(8), 'x-amz-id-2': randomBytes(48).toString('base64') },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'faultline-local',
      bucket: { name: change.bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${change.bucket}` },
      object,
    },
  };
  return { Records: [record] };
}

import { z } from 'zod';
import type { PointRecord, ReceivedPointRecord } from '../ports/point-stream.ts';
import type { Services } from '../services.ts';
import { scorePointRecords, type ScoringOutcome } from './scoring.ts';

/** The stream's record format, checked where records are read (the producer is ours, but the stream is shared). */
const pointRecordSchema = z
  .object({
    v: z.literal(1),
    projectId: z.string().min(1),
    metricId: z.string().min(1),
    t: z.array(z.number().finite()),
    x: z.array(z.number().finite()),
  })
  .refine((r) => r.t.length === r.x.length, 't and x differ in length');

/** A raw stream record (its data bytes and sequence number), as Lambda and the local poller both get them. */
export interface RawStreamRecord {
  sequenceNumber: string;
  data: Uint8Array;
}

/**
 * The consumer, the same in AWS (the Lambda fed by the stream) and locally (the poller on kinesalite): records that are
 * not point records are logged and skipped (a poison record must not hold its shard), the rest scored.
 */
export async function consumeStreamRecords(s: Services, raw: RawStreamRecord[]): Promise<ScoringOutcome> {
  const batch: ReceivedPointRecord[] = [];
  for (const r of raw) {
    let record: PointRecord;
    try {
      record = pointRecordSchema.parse(JSON.parse(Buffer.from(r.data).toString('utf8'))) as PointRecord;
    } catch (error) {
      s.log({
        level: 'error',
        msg: 'stream record skipped: not a point record',
        sequence: r.sequenceNumber,
        error: String(error),
      });
      continue;
    }
    batch.push({ sequence: r.sequenceNumber, record });
  }
  return scorePointRecords(s, batch);
}

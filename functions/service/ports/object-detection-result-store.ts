import type { ObjectDetectionRecord } from '../domain/object-detection-record.ts';
import type { Page } from './page.ts';

export interface ObjectDetectionResultStore {
  /** Idempotent: a retried job repeats the record's id (made from the job), so it overwrites, never duplicates. */
  put(record: ObjectDetectionRecord): Promise<void>;
  /** Newest first. */
  list(projectId: string, limit: number, cursor?: string): Promise<Page<ObjectDetectionRecord>>;
  get(projectId: string, id: string): Promise<ObjectDetectionRecord | undefined>;
}

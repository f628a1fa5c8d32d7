import type { ClassificationRecord } from '../domain/classification-record.ts';
import type { Page } from './page.ts';

export interface ClassificationResultStore {
  /** Idempotent: a retried job repeats the record's id (made from the job), so it overwrites, never duplicates. */
  put(record: ClassificationRecord): Promise<void>;
  /** Newest first. */
  list(projectId: string, limit: number, cursor?: string): Promise<Page<ClassificationRecord>>;
  get(projectId: string, id: string): Promise<ClassificationRecord | undefined>;
}

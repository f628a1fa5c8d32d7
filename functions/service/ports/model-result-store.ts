import type { Page } from './page.ts';

/** The stored answers of an uploaded model's project (classifications, object detections): one record per image. */
export interface ModelResultStore<R extends { projectId: string; id: string; createdAt: string }> {
  /** Idempotent: a retried job repeats the record's id (made from the job), so it overwrites, never duplicates. */
  put(record: R): Promise<void>;
  /** Newest first. */
  list(projectId: string, limit: number, cursor?: string): Promise<Page<R>>;
  get(projectId: string, id: string): Promise<R | undefined>;
}

import type { DetectionRecord } from '../domain/detection-record.ts';
import type { ReviewState } from '../domain/review.ts';
import type { Page } from './page.ts';

export interface ResultFilter {
  anomalousOnly?: boolean;
  /** ISO time: only results created after it. */
  since?: string;
  /** By review: unreviewed, reviewed (any verdict), or one verdict. */
  review?: ReviewState;
}

export interface ResultStore {
  /** Idempotent: a retried job repeats the record's id (made from the job), so it overwrites, never duplicates. */
  put(record: DetectionRecord): Promise<void>;
  /**
   * put() in one write with a check that the record's project exists and is not being deleted (a detection's commit:
   * see projects-service commitToProject). False, with nothing written, when the project is gone.
   */
  putIfProjectLive(record: DetectionRecord): Promise<boolean>;
  /** Newest first. A filtered page holds `limit` items unless it ran out or read its bound (then a cursor goes on). */
  list(projectId: string, filter: ResultFilter, limit: number, cursor?: string): Promise<Page<DetectionRecord>>;
  get(projectId: string, id: string): Promise<DetectionRecord | undefined>;
  /** Every result of one batch (drop-folder sub-folder), for its summary. */
  batch(projectId: string, batchId: string): Promise<DetectionRecord[]>;
}

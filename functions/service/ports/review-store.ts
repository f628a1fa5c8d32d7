import type { DetectionRecord } from '../domain/detection-record.ts';
import type { Review } from '../domain/review.ts';

/** Reviews live on their result (one item): a review needs its result, and goes when the result goes. */
export interface ReviewStore {
  /**
   * Sets the result's review if its revision is still `previousRevision` (0: never reviewed), as one conditional
   * write; false when the result is gone or was reviewed meanwhile (the caller reads again to tell which).
   */
  setIf(projectId: string, resultId: string, review: Review, previousRevision: number): Promise<boolean>;
  /** Every reviewed result of the project (created after `since` when given), oldest first. */
  reviewed(projectId: string, since?: string): Promise<DetectionRecord[]>;
}

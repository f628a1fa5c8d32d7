import type { DetectionRecord } from '../domain/detection-record.ts';
import type { Review } from '../domain/review.ts';
import type { ReviewStore } from '../ports/review-store.ts';
import { toRecord } from './result-repository.ts';
import { keys, resultId } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

/** Reviews as an attribute of their result's item, written with a revision check (see ReviewStore). */
export class ReviewRepository extends TableRepository implements ReviewStore {
  async setIf(projectId: string, id: string, review: Review, previousRevision: number): Promise<boolean> {
    return this.updateIf(keys.result(projectId, id), {
      UpdateExpression: 'SET #review = :review',
      ConditionExpression:
        previousRevision === 0
          ? 'attribute_exists(pk) AND attribute_not_exists(#review)'
          : 'attribute_exists(pk) AND #review.revision = :previous',
      ExpressionAttributeNames: { '#review': 'review' },
      ExpressionAttributeValues: {
        ':review': review,
        ...(previousRevision === 0 ? {} : { ':previous': previousRevision }),
      },
    });
  }

  async reviewed(projectId: string, since?: string): Promise<DetectionRecord[]> {
    const from = since ? `RESULT#${resultId(new Date(since).toISOString(), '')}` : 'RESULT#';
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :p AND sk BETWEEN :from AND :to',
      FilterExpression: 'attribute_exists(#review)',
      ExpressionAttributeNames: { '#review': 'review' },
      ExpressionAttributeValues: { ':p': keys.project(projectId).pk, ':from': from, ':to': 'RESULT#\uffff' },
    });
    return items.map(toRecord);
  }
}

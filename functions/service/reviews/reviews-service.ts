import type { Principal } from '../auth/principal.ts';
import type { DetectionRecord } from '../domain/detection-record.ts';
import type { Review, ReviewMetricsRow, ReviewRequest, ReviewVerdict } from '../domain/review.ts';
import { ServiceError } from '../errors.ts';
import { requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';

/** Conditional writes tried before a review under heavy contention gives up (each lost round means another won). */
const REVIEW_WRITE_ATTEMPTS = 20;

const noResult = (projectId: string, resultId: string) =>
  new ServiceError('NOT_FOUND', `no result ${resultId} in project ${projectId}`, { resultId });

/**
 * A person's verdict on a stored result, kept with who and when. A new review replaces the last one; each write is
 * conditional on the revision it read, so parallel reviews never interleave: each lands whole, as the next revision.
 * With `expectedRevision`, a review made meanwhile by someone else is not replaced: 409 CONFLICT.
 */
export async function reviewResult(
  s: Services,
  projectId: string,
  resultId: string,
  request: ReviewRequest,
  by: Principal,
): Promise<Review> {
  await requireProject(s, projectId);
  for (let attempt = 0; attempt < REVIEW_WRITE_ATTEMPTS; attempt++) {
    const record = await s.results.get(projectId, resultId);
    if (!record) throw noResult(projectId, resultId);
    const current = record.review?.revision ?? 0;
    if (request.expectedRevision !== undefined && request.expectedRevision !== current)
      throw new ServiceError(
        'CONFLICT',
        `result ${resultId} is at review revision ${current}, not ${request.expectedRevision}: it was reviewed meanwhile`,
        { resultId, revision: current, review: record.review },
      );
    const review: Review = {
      verdict: request.verdict,
      defectType: request.defectType ?? null,
      note: request.note ?? null,
      reviewedBy: by.subject,
      reviewedAt: new Date().toISOString(),
      revision: current + 1,
    };
    if (await s.reviews.setIf(projectId, resultId, review, current)) return review;
    await new Promise((r) => setTimeout(r, Math.random() * 20 * (attempt + 1)));
  }
  throw new ServiceError('CONFLICT', `result ${resultId} is being reviewed by others at this moment; try again`, {
    resultId,
  });
}

/** One reviewed result in the review listing. */
export interface ReviewListItem {
  resultId: string;
  createdAt: string;
  batchId: string;
  source: DetectionRecord['source'];
  modelVersion: string;
  flagged: boolean;
  anomalyScore: number;
  classification: string;
  review: Review;
}

export const reviewListItem = (r: DetectionRecord & { review: Review }): ReviewListItem => ({
  resultId: r.id,
  createdAt: r.createdAt,
  batchId: r.batchId,
  source: r.source,
  modelVersion: r.result.model_version,
  flagged: r.result.is_anomalous,
  anomalyScore: r.result.anomaly_score,
  classification: r.result.classification,
  review: r.review,
});

/** Reviewed results, newest result first, optionally of one verdict. */
export async function listReviews(
  s: Services,
  projectId: string,
  verdict: ReviewVerdict | undefined,
  limit: number,
  cursor?: string,
): Promise<{ items: ReviewListItem[]; cursor: string | null }> {
  await requireProject(s, projectId);
  const page = await s.results.list(projectId, { review: verdict ?? 'reviewed' }, limit, cursor);
  return {
    items: page.items.filter((r): r is DetectionRecord & { review: Review } => !!r.review).map(reviewListItem),
    cursor: page.cursor,
  };
}

export const METRIC_PERIODS = ['hour', 'day', 'week'] as const;
export type MetricPeriod = (typeof METRIC_PERIODS)[number];

/** The start of the period holding an ISO time (UTC; weeks start on Monday). */
export function periodOf(iso: string, period: MetricPeriod): string {
  if (period === 'hour') return iso.slice(0, 13);
  if (period === 'day') return iso.slice(0, 10);
  const d = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

/**
 * Precision and recall of the flags (is_anomalous) against people's verdicts, per model version and period of the
 * result's creation: a flagged result reviewed `defect` is a true positive, `normal` a false positive; an unflagged
 * one reviewed `defect` a false negative (a missed defect). `unsure` reviews are left out.
 */
export function reviewMetrics(records: DetectionRecord[], period: MetricPeriod): ReviewMetricsRow[] {
  const rows = new Map<string, ReviewMetricsRow>();
  for (const r of records) {
    const verdict = r.review?.verdict;
    if (verdict !== 'normal' && verdict !== 'defect') continue;
    const key = `${periodOf(r.createdAt, period)}|${r.result.model_version}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        period: periodOf(r.createdAt, period),
        modelVersion: r.result.model_version,
        reviewed: 0,
        truePositives: 0,
        falsePositives: 0,
        falseNegatives: 0,
        trueNegatives: 0,
        precision: null,
        recall: null,
      };
      rows.set(key, row);
    }
    row.reviewed++;
    const flagged = r.result.is_anomalous;
    if (flagged && verdict === 'defect') row.truePositives++;
    else if (flagged) row.falsePositives++;
    else if (verdict === 'defect') row.falseNegatives++;
    else row.trueNegatives++;
  }
  const out = [...rows.values()].sort((a, b) =>
    a.period === b.period
      ? a.modelVersion.localeCompare(b.modelVersion, 'en', { numeric: true })
      : a.period < b.period
        ? -1
        : 1,
  );
  for (const row of out) {
    const flagged = row.truePositives + row.falsePositives;
    const defects = row.truePositives + row.falseNegatives;
    row.precision = flagged > 0 ? row.truePositives / flagged : null;
    row.recall = defects > 0 ? row.truePositives / defects : null;
  }
  return out;
}

export async function projectReviewMetrics(
  s: Services,
  projectId: string,
  period: MetricPeriod,
  since?: string,
): Promise<ReviewMetricsRow[]> {
  await requireProject(s, projectId);
  return reviewMetrics(await s.reviews.reviewed(projectId, since), period);
}

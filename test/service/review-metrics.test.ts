import { describe, expect, it } from 'vitest';
import type { DetectionRecord } from '../../functions/service/domain/detection-record.ts';
import type { ReviewVerdict } from '../../functions/service/domain/review.ts';
import { periodOf, reviewMetrics } from '../../functions/service/reviews/reviews-service.ts';

const record = (createdAt: string, model: string, flagged: boolean, verdict?: ReviewVerdict): DetectionRecord =>
  ({
    id: `r_${createdAt}`,
    createdAt,
    result: { is_anomalous: flagged, model_version: model },
    ...(verdict
      ? {
          review: {
            verdict,
            defectType: null,
            note: null,
            reviewedBy: 'local',
            reviewedAt: createdAt,
            revision: 1,
          },
        }
      : {}),
  }) as unknown as DetectionRecord;

describe('precision and recall from reviews', () => {
  it('counts flags against verdicts per period and model version, leaving out unsure and unreviewed results', () => {
    const rows = reviewMetrics(
      [
        record('2026-12-01T08:00:00.000Z', 'v1', true, 'defect'), // true positive
        record('2026-12-01T09:00:00.000Z', 'v1', true, 'normal'), // false alarm
        record('2026-12-01T10:00:00.000Z', 'v1', false, 'defect'), // missed
        record('2026-12-01T11:00:00.000Z', 'v1', false, 'normal'), // true negative
        record('2026-12-01T12:00:00.000Z', 'v1', true, 'unsure'),
        record('2026-12-01T12:30:00.000Z', 'v1', true),
        record('2026-12-01T13:00:00.000Z', 'v10', false, 'normal'),
        record('2026-12-02T08:00:00.000Z', 'v2', true, 'defect'),
      ],
      'day',
    );
    expect(rows).toEqual([
      {
        period: '2026-12-01',
        modelVersion: 'v1',
        reviewed: 4,
        truePositives: 1,
        falsePositives: 1,
        falseNegatives: 1,
        trueNegatives: 1,
        precision: 0.5,
        recall: 0.5,
      },
      // Nothing flagged and no defect: both undefined, not 0 or 1.
      expect.objectContaining({ period: '2026-12-01', modelVersion: 'v10', precision: null, recall: null }),
      expect.objectContaining({ period: '2026-12-02', modelVersion: 'v2', precision: 1, recall: 1 }),
    ]);
  });

  it('starts hours, days and weeks (Monday) in UTC', () => {
    expect(periodOf('2026-12-01T13:45:00.000Z', 'hour')).toBe('2026-12-01T13');
    expect(periodOf('2026-12-01T13:45:00.000Z', 'day')).toBe('2026-12-01');
    expect(periodOf('2026-12-06T23:59:59.000Z', 'week')).toBe('2026-11-30'); // a Sunday
    expect(periodOf('2026-11-30T00:00:00.000Z', 'week')).toBe('2026-11-30'); // a Monday
  });
});

import { describe, expect, it } from 'vitest';
import { groupAnomalies, severityOf } from '../../../functions/engine/series/anomalies.ts';
import { detectSeries } from '../../../functions/engine/series/detect-series.ts';
import type { PointScore } from '../../../functions/engine/series/detector.ts';
import { syntheticSeries } from './helpers.ts';

function point(score: number, raw: number, view: PointScore['view'] = 'value'): PointScore {
  return { score, raw, view, expected: 10, gapBefore: false, flatRun: 1, stuck: false };
}

describe('anomalies', () => {
  it('a synthetic spike and level shift are found, typed and measured against what was expected', () => {
    const s = syntheticSeries(6000);
    const counts = { read: 6000, kept: 6000, nonNumeric: 0, nonFinite: 0, repeatedTimestamp: 0, outOfOrder: 0 };
    const { anomalies } = detectSeries({ ...s, counts, pointOfRow: new Int32Array(0) });
    const spike = anomalies.find((a) => a.peak === s.timestampText[3000]);
    expect(spike?.type).toBe('spike');
    expect(spike?.deviation_percent).toBeGreaterThan(40);
    const shift = anomalies.find((a) => a.start >= s.timestampText[4801] && a.start <= s.timestampText[4830]);
    expect(shift?.type).toBe('level shift');
    expect(shift && shift.value > shift.expected).toBe(true);
  });

  it('runs merge, persist while the deviation lasts, and are typed by shape', () => {
    const ts = Array.from({ length: 40 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const values = new Array(40).fill(20);
    const points = Array.from({ length: 40 }, () => point(0, 0));
    points[5] = point(0.9, 8); // a lone spike
    points[20] = point(0.6, -6); // a drop that stays: a level shift
    for (let i = 21; i < 30; i++) points[i] = point(0.1, -5);
    const anomalies = groupAnomalies(points, values, ts);
    expect(anomalies.map((a) => [a.start, a.end, a.type, a.severity])).toEqual([
      ['t05', 't05', 'spike', 'critical'],
      ['t20', 't29', 'level shift', 'medium'],
    ]);
    expect(anomalies[0].deviation_percent).toBe(100); // value 20 against expected 10
  });

  it('severity bands', () => {
    expect([0.41, 0.5, 0.7, 0.9].map(severityOf)).toEqual(['low', 'medium', 'high', 'critical']);
  });
});

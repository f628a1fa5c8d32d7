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

describe('AnomalyGrouper state', () => {
  it('split anywhere, resumed from JSON: the same anomalies as the whole batch', async () => {
    const { AnomalyGrouper } = await import('../../../functions/engine/series/anomalies.ts');
    const s = syntheticSeries(6000, 4);
    const counts = { read: 6000, kept: 6000, nonNumeric: 0, nonFinite: 0, repeatedTimestamp: 0, outOfOrder: 0 };
    // gaps and a stuck stretch as well, so that every kind of open state is crossed by a cut
    const value = Float64Array.from(s.value, (v, i) => (i >= 5200 && i < 5600 ? 42 : v));
    const time = Float64Array.from(s.time, (t, i) => t + (i >= 3500 ? 3_600_000 : 0));
    const text = Array.from(time, (t) => new Date(t).toISOString());
    const { points, anomalies } = detectSeries({
      time,
      value,
      timestampText: text,
      counts,
      pointOfRow: new Int32Array(0),
    });
    const types = anomalies.map((a) => a.type);
    for (const t of ['spike', 'missing data', 'flatline'] as const) expect(types).toContain(t);
    for (const cut of [1, 2500, 2501, 3500, 4801, 4805, 5300, 5999]) {
      let grouper = new AnomalyGrouper();
      const out = [];
      for (let i = 0; i < points.length; i++) {
        if (i === cut) grouper = new AnomalyGrouper(undefined, JSON.parse(JSON.stringify(grouper.state)));
        out.push(...grouper.push(points[i], value[i], text[i]));
      }
      out.push(...grouper.flush());
      out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
      expect(out).toEqual(anomalies);
    }
  });
});

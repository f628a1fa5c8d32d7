import { describe, expect, it } from 'vitest';
import { cleanRows, readValue } from '../../../functions/engine/series/clean.ts';
import { parseSeriesCsv, parseTimestamp } from '../../../functions/engine/series/csv.ts';
import { detectSeries } from '../../../functions/engine/series/detect-series.ts';
import { SeriesInputError } from '../../../functions/engine/series/series-error.ts';

function csv(values: string[], stepMs = 300_000, start = Date.UTC(2024, 0, 1)): string {
  return ['timestamp,value', ...values.map((v, i) => `${new Date(start + i * stepMs).toISOString()},${v}`)].join('\n');
}

function expectAllFinite(scores: ArrayLike<number>): void {
  for (let i = 0; i < scores.length; i++) {
    expect(Number.isFinite(scores[i])).toBe(true);
    expect(scores[i]).toBeGreaterThanOrEqual(0);
    expect(scores[i]).toBeLessThanOrEqual(1);
  }
}

describe('reading series files', () => {
  it('reads NAB, ISO and epoch timestamps as UTC', () => {
    expect(parseTimestamp('2014-02-14 14:30:00')).toBe(Date.UTC(2014, 1, 14, 14, 30));
    expect(parseTimestamp('2014-02-14T14:30:00+02:00')).toBe(Date.UTC(2014, 1, 14, 12, 30));
    expect(parseTimestamp('1392388200')).toBe(Date.UTC(2014, 1, 14, 14, 30));
    expect(parseTimestamp('yesterday')).toBeNaN();
  });

  it('names the line of a row without a value column or with a bad timestamp', () => {
    const noComma = 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00\n';
    expect(() => parseSeriesCsv(noComma, 'x.csv')).toThrow(SeriesInputError);
    try {
      parseSeriesCsv(noComma, 'x.csv');
    } catch (error) {
      expect((error as SeriesInputError).details.line).toBe(3);
      expect((error as SeriesInputError).code).toBe('DATASET_INVALID');
      expect((error as Error).message).toContain('x.csv:3');
    }
    const badTime = 'timestamp,value\n2024-01-01 00:00:00,1\nnoon,2\n';
    expect(() => parseSeriesCsv(badTime, 'y.csv')).toThrow(/y\.csv:3/);
  });

  it('an empty file or a header alone is a typed error', () => {
    expect(() => parseSeriesCsv('', 'e.csv')).toThrow(SeriesInputError);
    expect(() => parseSeriesCsv('timestamp,value\n', 'e.csv')).toThrow(/no data lines/);
  });

  it('values: numbers pass, NaN, text and empties are non-numeric, Infinity and overflow non-finite', () => {
    expect(readValue('1.5e3')).toEqual({ value: 1500, verdict: 'ok' });
    for (const t of ['NaN', 'abc', '', '1,5', '0x10']) expect(readValue(t).verdict).toBe('nonNumeric');
    for (const t of ['Infinity', '-inf', '1e400']) expect(readValue(t).verdict).toBe('nonFinite');
  });
});

describe('cleaning and detecting bad input', () => {
  it('skips non-numeric, non-finite, repeated and out-of-order points with counts, and scores the rest', () => {
    const lines = ['timestamp,value'];
    const t = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 300_000).toISOString();
    for (let i = 0; i < 400; i++) lines.push(`${t(i)},${Math.sin(i / 10)}`);
    lines.push(`${t(399)},5`); // repeated timestamp
    lines.push(`${t(100)},5`); // out of order
    lines.push(`${t(400)},NaN`, `${t(401)},Infinity`, `${t(402)},n/a`, `${t(403)},`, `${t(404)},1`);
    const rows = parseSeriesCsv(lines.join('\n'));
    const series = cleanRows(rows);
    expect(series.counts).toEqual({
      read: 407,
      kept: 401,
      nonNumeric: 3,
      nonFinite: 1,
      repeatedTimestamp: 1,
      outOfOrder: 1,
    });
    expect(Array.from(series.pointOfRow.slice(399, 407))).toEqual([399, -1, -1, -1, -1, -1, -1, 400]);
    const result = detectSeries(series);
    expect(result.scores.length).toBe(401);
    expectAllFinite(result.scores);
  });

  it('a series that never changes: no crash, no NaN, one flatline anomaly', () => {
    const series = cleanRows(parseSeriesCsv(csv(new Array(500).fill('7'))));
    const result = detectSeries(series);
    expectAllFinite(result.scores);
    expect(Math.max(...result.scores)).toBe(0);
    expect(result.anomalies.map((a) => a.type)).toEqual(['flatline']);
    expect(result.anomalies[0].points).toBe(500);
  });

  it('a sensor that gets stuck after moving is a flatline from where it stuck', () => {
    const values = Array.from({ length: 800 }, (_, i) => (i < 600 ? String(20 + Math.sin(i / 5)) : '20.5'));
    const result = detectSeries(cleanRows(parseSeriesCsv(csv(values))));
    const flat = result.anomalies.filter((a) => a.type === 'flatline');
    expect(flat.length).toBe(1);
    expect(flat[0].start).toBe(new Date(Date.UTC(2024, 0, 1) + 600 * 300_000).toISOString());
  });

  it('a gap of several intervals is a "missing data" anomaly', () => {
    const start = Date.UTC(2024, 0, 1);
    const lines = ['timestamp,value'];
    for (let i = 0; i < 600; i++) {
      const at = i < 300 ? i : i + 50; // 50 intervals missing after point 299
      lines.push(`${new Date(start + at * 300_000).toISOString()},${Math.sin(i / 7)}`);
    }
    const result = detectSeries(cleanRows(parseSeriesCsv(lines.join('\n'))));
    const gaps = result.anomalies.filter((a) => a.type === 'missing data');
    expect(gaps.length).toBe(1);
    expect(gaps[0].start).toBe(new Date(start + 299 * 300_000).toISOString());
    expect(gaps[0].end).toBe(new Date(start + 350 * 300_000).toISOString());
    expectAllFinite(result.scores);
  });

  it('huge, tiny and alternating values stay finite', () => {
    const values = Array.from({ length: 600 }, (_, i) => String(i % 2 ? 1e300 : -1e300 * (i % 3)));
    values.push('1e-300', '0', '-0');
    const result = detectSeries(cleanRows(parseSeriesCsv(csv(values))));
    expectAllFinite(result.scores);
    for (const a of result.anomalies) for (const v of [a.score, a.confidence]) expect(Number.isFinite(v)).toBe(true);
  });
});

import type { RawRow } from './csv.ts';

/** Why rows were left out, counted: nothing is dropped silently. */
export interface CleaningCounts {
  read: number;
  kept: number;
  nonNumeric: number; // empty, text, NaN
  nonFinite: number; // Infinity, -Infinity, or too large for a double
  repeatedTimestamp: number; // same time as the previous kept point: the first one wins
  outOfOrder: number; // earlier than the previous kept point
}

export interface CleanSeries {
  timestampText: string[];
  time: Float64Array;
  value: Float64Array;
  counts: CleaningCounts;
  /** For each row read, the index of its kept point, or -1 when it was left out: results can list every row. */
  pointOfRow: Int32Array;
}

export type ValueVerdict = 'ok' | 'nonNumeric' | 'nonFinite';

/** A value as sensors and spreadsheets write it: a decimal number; anything else is not a measurement. */
export function readValue(text: string): { value: number; verdict: ValueVerdict } {
  if (text === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity)$/i.test(text)) {
    return { value: Number.NaN, verdict: 'nonNumeric' };
  }
  const value = /inf/i.test(text) ? Number.POSITIVE_INFINITY : Number(text);
  return Number.isFinite(value) ? { value, verdict: 'ok' } : { value, verdict: 'nonFinite' };
}

/**
 * Keeps the rows a detector can use, in time order: numeric finite values, strictly increasing timestamps. The
 * rules are the online ones (a point is judged against the previous kept point only), so a file gives the same
 * series whether it is cleaned whole or streamed.
 */
export function cleanRows(rows: readonly RawRow[]): CleanSeries {
  const counts: CleaningCounts = {
    read: rows.length,
    kept: 0,
    nonNumeric: 0,
    nonFinite: 0,
    repeatedTimestamp: 0,
    outOfOrder: 0,
  };
  const timestampText: string[] = [];
  const time = new Float64Array(rows.length);
  const value = new Float64Array(rows.length);
  const pointOfRow = new Int32Array(rows.length).fill(-1);
  let last = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const { value: v, verdict } = readValue(row.valueText);
    if (verdict !== 'ok') {
      counts[verdict]++;
      continue;
    }
    if (row.time === last) {
      counts.repeatedTimestamp++;
      continue;
    }
    if (row.time < last) {
      counts.outOfOrder++;
      continue;
    }
    last = row.time;
    time[counts.kept] = row.time;
    value[counts.kept] = v;
    timestampText.push(row.timestampText);
    pointOfRow[r] = counts.kept;
    counts.kept++;
  }
  return { timestampText, time: time.slice(0, counts.kept), value: value.slice(0, counts.kept), counts, pointOfRow };
}

import { SeriesInputError } from './series-error.ts';

/** One row of a series file as read: the timestamp text is kept so that results can repeat it verbatim. */
export interface RawRow {
  line: number;
  timestampText: string;
  time: number; // ms since the epoch, NaN when the text is not a time
  valueText: string;
}

/**
 * Timestamps as sensor exports write them: ISO 8601 (`2014-02-14T14:30:00Z`), NAB's `2014-02-14 14:30:00` (read as
 * UTC: the files carry no zone), or epoch seconds / milliseconds.
 */
export function parseTimestamp(text: string): number {
  const t = text.trim();
  if (/^\d{9,10}(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (/^\d{12,13}$/.test(t)) return Number(t);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (!m) return Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, frac ? Math.round(Number(frac) * 1000) : 0);
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
}

/**
 * Reads `timestamp,value` CSV text (a header line first; further columns are ignored). A line without two fields or
 * with a timestamp that is not a time is an error naming the line: such a file is not a series and guessing would
 * hide it. Values are kept as text: whether a value is usable is the cleaner's decision, with counts.
 */
export function parseSeriesCsv(text: string, source = 'input'): RawRow[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '').trim();
  if (header === '')
    throw new SeriesInputError(`${source}: empty file, expected a header line "timestamp,value"`, { source, line: 1 });
  const columns = header.split(',').map((c) => c.trim().toLowerCase());
  const headerIsData = Number.isFinite(parseTimestamp(columns[0] ?? '')) && columns.length >= 2;
  const timeColumn = headerIsData
    ? 0
    : Math.max(
        0,
        columns.findIndex((c) => c === 'timestamp' || c === 'time'),
      );
  const valueColumn = headerIsData
    ? 1
    : columns.indexOf('value') >= 0
      ? columns.indexOf('value')
      : timeColumn === 0
        ? 1
        : 0;
  const rows: RawRow[] = [];
  for (let i = headerIsData ? 0 : 1; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.trim() === '') continue;
    const fields = raw.split(',');
    const line = i + 1;
    if (fields.length <= Math.max(timeColumn, valueColumn)) {
      throw new SeriesInputError(`${source}:${line}: expected "timestamp,value", got "${raw.slice(0, 80)}"`, {
        source,
        line,
      });
    }
    const timestampText = fields[timeColumn].trim();
    const time = parseTimestamp(timestampText);
    if (!Number.isFinite(time)) {
      throw new SeriesInputError(`${source}:${line}: "${timestampText.slice(0, 40)}" is not a timestamp`, {
        source,
        line,
      });
    }
    rows.push({ line, timestampText, time, valueText: fields[valueColumn].trim() });
  }
  if (rows.length === 0) throw new SeriesInputError(`${source}: no data lines after the header`, { source, line: 2 });
  return rows;
}

import { readFile } from 'node:fs/promises';
import { cleanRows, type CleanSeries } from './clean.ts';
import { parseSeriesCsv, type RawRow } from './csv.ts';
import { SeriesInputError } from './series-error.ts';

export interface SeriesFile {
  path: string;
  rows: RawRow[];
  series: CleanSeries;
}

/** Reads and cleans one `timestamp,value` file; a missing or unreadable file is a typed error, as a bad line is. */
export async function readSeriesFile(path: string): Promise<SeriesFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SeriesInputError(`${path}: ${code === 'ENOENT' ? 'no such file' : 'cannot be read'}`, {
      path,
      reason: code,
    });
  }
  const rows = parseSeriesCsv(text, path);
  return { path, rows, series: cleanRows(rows) };
}

/**
 * NAB's results format: every input row, in input order, with its score (rows the cleaner left out score 0, so
 * that the scorer's timestamps line up with the data file's).
 */
export function resultsCsv(file: { rows: readonly RawRow[]; series: CleanSeries }, scores: ArrayLike<number>): string {
  const lines = ['timestamp,value,anomaly_score,label'];
  file.rows.forEach((row, i) => {
    const point = file.series.pointOfRow[i];
    lines.push(`${row.timestampText},${row.valueText},${point < 0 ? 0 : scores[point]},0`);
  });
  return `${lines.join('\n')}\n`;
}

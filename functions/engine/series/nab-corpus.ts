import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanRows, type CleanSeries } from './clean.ts';
import { parseSeriesCsv, parseTimestamp, type RawRow } from './csv.ts';
import { SeriesInputError } from './series-error.ts';

/** One data file of a NAB-layout corpus: `data/CATEGORY/FILE.csv`, with its labelled windows when known. */
export interface CorpusFile {
  relative: string; // CATEGORY/FILE.csv
  rows: RawRow[];
  series: CleanSeries;
  windows: [number, number][];
}

/** Every `.csv` under `dir`, as paths relative to it, sorted so that runs are reproducible. */
export async function listCsv(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listCsv(dir, rel)));
    else if (entry.name.endsWith('.csv')) out.push(rel);
  }
  return out;
}

/** Reads a NAB corpus folder (`data/` and `labels/combined_windows.json`). */
export async function readNabCorpus(root: string): Promise<CorpusFile[]> {
  let windows: Record<string, [string, string][]>;
  try {
    windows = JSON.parse(await readFile(join(root, 'labels', 'combined_windows.json'), 'utf8'));
  } catch (error) {
    throw new SeriesInputError(
      `${root} is not a NAB corpus: labels/combined_windows.json cannot be read`,
      { root },
      { cause: error },
    );
  }
  const files: CorpusFile[] = [];
  for (const relative of await listCsv(join(root, 'data'))) {
    const text = await readFile(join(root, 'data', relative), 'utf8');
    const rows = parseSeriesCsv(text, relative);
    const series = cleanRows(rows);
    const w = (windows[relative] ?? []).map(
      ([a, b]) => [parseTimestamp(a.replace(/\.0+$/, '')), parseTimestamp(b.replace(/\.0+$/, ''))] as [number, number],
    );
    files.push({ relative, rows, series, windows: w });
  }
  return files;
}

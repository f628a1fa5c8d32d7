import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { seriesArchiveDay, seriesArchiveKey, seriesArchivePrefix } from '../object-keys.ts';
import type { StoredChunk, StoredChunkItem } from '../ports/series-store.ts';
import type { Services } from '../services.ts';

/**
 * Older points in S3. The table keeps a metric's points of the last FAULTLINE_POINT_ARCHIVE_AFTER_DAYS days; a
 * scheduled job moves each older UTC day to one gzip CSV object per metric (object-keys.ts seriesArchiveKey), and the
 * points query reads both (readPoints). gzip CSV, not Parquet: a chart reads one metric's whole days, so Parquet's
 * column pruning buys nothing here, node:zlib needs no dependency, and Athena, DuckDB or pandas read it as well.
 *
 * Safe against a crash at any step: a day is written as the merge of what the object holds and what the table holds
 * (by time; a point is unique in time per metric, the detector refuses one not after the last), and the table's
 * chunks are deleted only after the object is written. A run that died between the two writes the same object again;
 * a read meanwhile finds the points in both places and keeps one of each. Points that arrive for a day archived
 * already land in the table as any point does, and the next run merges them into the day's object.
 */

const DAY_MS = 86_400_000;
const HEADER = 'time,value,score';
/** How long one run may hold the job before another may take it over (a run that died frees it this way). */
const RUN_LEASE_MS = 15 * 60_000;

export const utcDay = (t: number): string => new Date(Math.floor(t / DAY_MS) * DAY_MS).toISOString().slice(0, 10);

export async function encodeDay(c: StoredChunk): Promise<Uint8Array> {
  const lines = [HEADER];
  for (let i = 0; i < c.time.length; i++) lines.push(`${c.time[i]},${c.value[i]},${c.score[i]}`);
  return promisify(gzip)(`${lines.join('\n')}\n`);
}

export async function decodeDay(body: Uint8Array, key: string): Promise<StoredChunk> {
  const text = (await promisify(gunzip)(body)).toString('utf8');
  const out: StoredChunk = { time: [], value: [], score: [] };
  const lines = text.split('\n');
  if (lines[0] !== HEADER) throw new Error(`archive object ${key} does not start with "${HEADER}"`);
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const [t, x, s] = lines[i].split(',').map(Number);
    if (![t, x, s].every(Number.isFinite))
      throw new Error(`archive object ${key}: line ${i + 1} is not time,value,score`);
    out.time.push(t);
    out.value.push(x);
    out.score.push(s);
  }
  return out;
}

/** Points of several sources in time order, one per time (the later source wins a time both hold). */
export function mergeByTime(...sources: StoredChunk[]): StoredChunk {
  const byTime = new Map<number, [number, number]>();
  for (const c of sources) for (let i = 0; i < c.time.length; i++) byTime.set(c.time[i], [c.value[i], c.score[i]]);
  const times = [...byTime.keys()].sort((a, b) => a - b);
  return { time: times, value: times.map((t) => byTime.get(t)![0]), score: times.map((t) => byTime.get(t)![1]) };
}

const within = (c: StoredChunk, from: number, to: number): StoredChunk => {
  const out: StoredChunk = { time: [], value: [], score: [] };
  c.time.forEach((t, i) => {
    if (t >= from && t <= to) {
      out.time.push(t);
      out.value.push(c.value[i]);
      out.score.push(c.score[i]);
    }
  });
  return out;
};

/** A metric's points with from <= time <= to, from its archived days and the table, in time order, none twice. */
export async function readPoints(
  s: Services,
  projectId: string,
  metricId: string,
  from: number,
  to: number,
): Promise<StoredChunk> {
  const [first, last] = [utcDay(from), utcDay(to)];
  const days: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await s.objects.list(seriesArchivePrefix(projectId, metricId), { cursor });
    for (const o of page.objects) {
      const day = seriesArchiveDay(o.key);
      if (day && day >= first && day <= last) days.push(o.key);
    }
    cursor = page.cursor;
  } while (cursor);
  const [recent, ...archived] = await Promise.all([
    s.series.pointsBetween(metricId, from, to),
    ...days.map(async (key) => {
      const body = await s.objects.get(key);
      return body ? within(await decodeDay(body, key), from, to) : { time: [], value: [], score: [] };
    }),
  ]);
  return mergeByTime(...archived, recent);
}

export interface ArchiveOutcome {
  /** False when another run held the job (nothing done). */
  ran: boolean;
  metrics: number;
  days: number;
  points: number;
}

/** Moves one metric's days before `cutoff` from the table to S3. */
async function archiveMetric(s: Services, projectId: string, metricId: string, cutoff: number) {
  const items = await s.series.chunksBefore(metricId, cutoff);
  const byDay = new Map<string, StoredChunkItem[]>();
  for (const item of items) {
    const day = utcDay(item.hour);
    let list = byDay.get(day);
    if (!list) byDay.set(day, (list = []));
    list.push(item);
  }
  let points = 0;
  for (const [day, chunks] of byDay) {
    const key = seriesArchiveKey(projectId, metricId, day);
    const existing = await s.objects.get(key);
    const merged = mergeByTime(...(existing ? [await decodeDay(existing, key)] : []), ...chunks.map((c) => c.chunk));
    await s.objects.put(key, await encodeDay(merged), 'application/gzip');
    // Only now: a crash before this line leaves the chunks for the next run, which writes the same object again.
    await s.series.deleteChunks(metricId, chunks);
    points += chunks.reduce((n, c) => n + c.chunk.time.length, 0);
  }
  return { days: byDay.size, points };
}

/**
 * The archive job (a schedule in AWS, an interval in the local runtime): every metric of every sensors project has
 * its points of the UTC days that ended FAULTLINE_POINT_ARCHIVE_AFTER_DAYS or more before `now` moved to S3. One run at
 * a time (a lease in the table); running it again changes nothing.
 */
export async function archiveOldPoints(s: Services, now: number = Date.now()): Promise<ArchiveOutcome> {
  const afterDays = s.config.FAULTLINE_POINT_ARCHIVE_AFTER_DAYS;
  if (afterDays >= s.config.FAULTLINE_POINT_RETENTION_DAYS)
    throw new Error(
      `FAULTLINE_POINT_ARCHIVE_AFTER_DAYS (${afterDays}) must be below FAULTLINE_POINT_RETENTION_DAYS (${s.config.FAULTLINE_POINT_RETENTION_DAYS}): the table would expire points before they are archived`,
    );
  const owner = randomUUID();
  if (!(await s.series.claimArchiveRun(owner, now, now + RUN_LEASE_MS)))
    return { ran: false, metrics: 0, days: 0, points: 0 };
  try {
    const cutoff = (Math.floor(now / DAY_MS) - afterDays) * DAY_MS;
    const outcome: ArchiveOutcome = { ran: true, metrics: 0, days: 0, points: 0 };
    let cursor: string | undefined;
    do {
      const page = await s.projects.list(100, cursor);
      for (const project of page.items) {
        if (project.kind !== 'sensors') continue;
        for (const metric of await s.sensors.listMetrics(project.id)) {
          const done = await archiveMetric(s, project.id, metric.id, cutoff);
          outcome.metrics++;
          outcome.days += done.days;
          outcome.points += done.points;
        }
      }
      cursor = page.cursor ?? undefined;
    } while (cursor);
    s.log({ msg: 'old points archived', ...outcome, before: new Date(cutoff).toISOString() });
    return outcome;
  } finally {
    await s.series.releaseArchiveRun(owner);
  }
}

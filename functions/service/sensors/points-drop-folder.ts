import { parseTimestamp } from '../../engine/series/csv.ts';
import type { Metric } from '../domain/sensors.ts';
import { ServiceError } from '../errors.ts';
import { parseMetricsKey } from '../object-keys.ts';
import type { PointRecord } from '../ports/point-stream.ts';
import type { Services } from '../services.ts';
import { FUTURE_SLACK_MS, MAX_CSV_LINE, POINTS_PER_RECORD } from './points-intake.ts';

/** Points held before they go onto the stream, across metrics: what a file of many metrics costs in memory at most. */
const MAX_BUFFERED_POINTS = 100_000;

const invalid = (message: string) => new ServiceError('VALIDATION_FAILED', message);

/** The lines of a streamed object, numbered; a line longer than MAX_CSV_LINE fails as it arrives (never held whole). */
async function* lines(body: AsyncIterable<Uint8Array>): AsyncGenerator<{ line: number; text: string }> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let partial = '';
  let line = 0;
  const tooLong = () =>
    invalid(`line ${line + 1} is longer than ${MAX_CSV_LINE} characters: not a "metric,timestamp,value" line`);
  for await (const chunk of body) {
    partial += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      if (nl > MAX_CSV_LINE + 1) throw tooLong();
      yield { line: ++line, text: partial.slice(0, nl).replace(/\r$/, '') };
      partial = partial.slice(nl + 1);
    }
    if (partial.length > MAX_CSV_LINE + 1) throw tooLong();
  }
  partial += decoder.decode();
  if (partial.trim() !== '') yield { line: ++line, text: partial.replace(/\r$/, '') };
}

interface CsvPoint {
  metric: Metric;
  time: number;
  value: number;
}

/**
 * The points of a drop-folder file, one by one: `metric,timestamp,value` lines (the metric by id or by name within the
 * site; a header line is optional), each metric's points in time order, none too old or ahead. The first bad line
 * fails the whole file, named by its number.
 */
async function* csvPoints(s: Services, body: AsyncIterable<Uint8Array>, metrics: Metric[]): AsyncGenerator<CsvPoint> {
  const byKey = new Map<string, Metric | 'ambiguous'>();
  for (const m of metrics) {
    byKey.set(m.id, m);
    byKey.set(m.name, byKey.has(m.name) ? 'ambiguous' : m);
  }
  const now = Date.now();
  const oldest = now - s.config.FAULTLINE_POINT_MAX_AGE_DAYS * 86_400_000;
  const last = new Map<string, number>();
  for await (const { line, text } of lines(body)) {
    const raw = text.trim();
    if (raw === '') continue;
    const fields = raw.split(',').map((f) => f.trim());
    if (line === 1 && !Number.isFinite(parseTimestamp(fields[1] ?? '')) && /^[a-z_ ]+$/i.test(fields[1] ?? ''))
      continue;
    if (fields.length !== 3)
      throw invalid(`line ${line}: expected "metric,timestamp,value", got "${raw.slice(0, 60)}"`);
    const metric = byKey.get(fields[0]);
    if (!metric) throw invalid(`line ${line}: no metric "${fields[0].slice(0, 60)}" at this site`);
    if (metric === 'ambiguous')
      throw invalid(`line ${line}: several metrics of this site are named "${fields[0]}"; use the metric's id`);
    const time = parseTimestamp(fields[1]);
    if (!Number.isFinite(time)) throw invalid(`line ${line}: "${fields[1].slice(0, 40)}" is not a timestamp`);
    const value = fields[2] === '' ? Number.NaN : Number(fields[2]);
    if (!Number.isFinite(value)) throw invalid(`line ${line}: "${fields[2].slice(0, 40)}" is not a finite number`);
    if (time > now + FUTURE_SLACK_MS)
      throw invalid(`line ${line}: the point is in the future (more than 1 hour ahead)`);
    if (time < oldest)
      throw invalid(`line ${line}: the point is older than ${s.config.FAULTLINE_POINT_MAX_AGE_DAYS} days`);
    if (time <= (last.get(metric.id) ?? Number.NEGATIVE_INFINITY))
      throw invalid(
        `line ${line}: not after the previous point of metric "${fields[0]}" (a metric's points in time order)`,
      );
    last.set(metric.id, time);
    yield { metric, time, value };
  }
}

/** What became of a drop-folder file: its points on the stream, or refused with the reason (to be set aside). */
export type MetricsFileOutcome =
  | { status: 'accepted'; points: number; metrics: number }
  | { status: 'refused'; projectId: string; reason: string }
  | { status: 'ignored'; reason: string };

/**
 * A CSV file dropped under metrics/{siteId}/: read twice as a stream (never whole), first to check every line, then
 * to put the points on the point stream in records per metric (so a broken line sends nothing), and removed once all
 * are on the stream. A notification delivered twice finds no file the second time.
 */
export async function takeMetricsFile(s: Services, key: string): Promise<MetricsFileOutcome> {
  const parsed = parseMetricsKey(key);
  if (!parsed) return { status: 'ignored', reason: 'not a metrics/{siteId}/ key' };
  const projectId = await s.sensors.projectOfSite(parsed.siteId);
  if (!projectId) return { status: 'ignored', reason: `there is no site ${parsed.siteId}` };
  if (!s.pointStream) throw new ServiceError('SERVICE_UNAVAILABLE', 'no point stream is configured');
  const metrics = await s.sensors.listMetrics(projectId, { siteId: parsed.siteId });
  const open = async () => s.objects.getStream(key);
  const first = await open();
  if (!first) return { status: 'ignored', reason: 'the file is gone (a repeated notification)' };
  let count = 0;
  try {
    for await (const _ of csvPoints(s, first, metrics)) count++;
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    return { status: 'refused', projectId, reason: error.message };
  }
  if (count === 0) return { status: 'refused', projectId, reason: 'no points in the file' };
  const second = await open();
  if (!second) return { status: 'ignored', reason: 'the file went away while it was read' };
  const buffers = new Map<string, PointRecord>();
  let buffered = 0;
  const flush = async (only?: PointRecord) => {
    const records = only ? [only] : [...buffers.values()];
    if (records.length === 0) return;
    await s.pointStream!.put(records);
    for (const r of records) {
      buffers.delete(r.metricId);
      buffered -= r.t.length;
    }
  };
  const used = new Set<string>();
  for await (const p of csvPoints(s, second, metrics)) {
    let r = buffers.get(p.metric.id);
    if (!r) buffers.set(p.metric.id, (r = { v: 1, projectId, metricId: p.metric.id, t: [], x: [] }));
    r.t.push(p.time);
    r.x.push(p.value);
    used.add(p.metric.id);
    buffered++;
    if (r.t.length >= POINTS_PER_RECORD) await flush(r);
    else if (buffered >= MAX_BUFFERED_POINTS) await flush();
  }
  await flush();
  await s.objects.delete(key);
  return { status: 'accepted', points: count, metrics: used.size };
}

import { parseTimestamp } from '../../engine/series/csv.ts';
import { ServiceError } from '../errors.ts';
import type { PointRecord } from '../ports/point-stream.ts';
import type { Services } from '../services.ts';
import { requireMetric, requireSensorsProject } from './catalogue-service.ts';

/** Points a stream record carries at most (a Kinesis record holds 1 MiB; a point is ~40 bytes of JSON). */
export const POINTS_PER_RECORD = 2_000;
/** A CSV line longer than this is not a `timestamp,value` line. */
export const MAX_CSV_LINE = 200;
/** How far ahead of the service's clock a point may be (clock skew), in ms. */
export const FUTURE_SLACK_MS = 3_600_000;

export interface IncomingPoint {
  time: number;
  value: number;
}

const invalid = (message: string, details: Record<string, unknown> = {}) =>
  new ServiceError('VALIDATION_FAILED', message, details);

/**
 * `timestamp,value` lines (a header line is optional), as the CLI reads them: a line that is too long, has no two
 * fields, a time that is not one, or a value that is not a finite number is refused with its line number; nothing of
 * the body is accepted then (a partly taken upload cannot be told from a whole one).
 */
export function parsePointsCsv(text: string): IncomingPoint[] {
  const points: IncomingPoint[] = [];
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end - start > MAX_CSV_LINE)
      throw invalid(`line ${line} is longer than ${MAX_CSV_LINE} characters: not a "timestamp,value" line`, { line });
    const raw = text.slice(start, end).replace(/\r$/, '').trim();
    start = end + 1;
    if (raw === '') continue;
    const fields = raw.split(',').map((f) => f.trim());
    if (line === 1 && !Number.isFinite(parseTimestamp(fields[0] ?? '')) && /^[a-z_ ]+$/i.test(fields[0] ?? ''))
      continue;
    if (fields.length !== 2)
      throw invalid(`line ${line}: expected "timestamp,value", got "${raw.slice(0, 60)}"`, { line });
    const time = parseTimestamp(fields[0]);
    if (!Number.isFinite(time)) throw invalid(`line ${line}: "${fields[0].slice(0, 40)}" is not a timestamp`, { line });
    const value = fields[1] === '' ? Number.NaN : Number(fields[1]);
    if (!Number.isFinite(value))
      throw invalid(`line ${line}: "${fields[1].slice(0, 40)}" is not a finite number`, { line });
    points.push({ time, value });
  }
  if (points.length === 0) throw invalid('no points in the body');
  return points;
}

export const timeOf = (t: string | number): number => (typeof t === 'number' ? t : Date.parse(t));

/** Points of one metric in time order; too old, too far ahead, or a time given twice is refused. */
function checkPoints(s: Services, metricId: string, points: IncomingPoint[], now: number): IncomingPoint[] {
  const oldest = now - s.config.FAULTLINE_POINT_MAX_AGE_DAYS * 86_400_000;
  const sorted = [...points].sort((a, b) => a.time - b.time);
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i];
    const at = new Date(p.time).toISOString();
    if (p.time > now + FUTURE_SLACK_MS)
      throw invalid(`metric ${metricId}: point at ${at} is in the future (more than 1 hour ahead)`, { metricId, at });
    if (p.time < oldest)
      throw invalid(`metric ${metricId}: point at ${at} is older than ${s.config.FAULTLINE_POINT_MAX_AGE_DAYS} days`, {
        metricId,
        at,
      });
    if (i > 0 && sorted[i - 1].time === p.time)
      throw invalid(`metric ${metricId}: two points at ${at}`, { metricId, at });
  }
  return sorted;
}

function recordsOf(projectId: string, metricId: string, points: IncomingPoint[]): PointRecord[] {
  const out: PointRecord[] = [];
  for (let i = 0; i < points.length; i += POINTS_PER_RECORD) {
    const slice = points.slice(i, i + POINTS_PER_RECORD);
    out.push({ v: 1, projectId, metricId, t: slice.map((p) => p.time), x: slice.map((p) => p.value) });
  }
  return out;
}

async function send(s: Services, records: PointRecord[]): Promise<void> {
  if (!s.pointStream)
    throw new ServiceError('SERVICE_UNAVAILABLE', 'no point stream is configured (FAULTLINE_POINT_STREAM)');
  await s.pointStream.put(records);
}

/** Points of one metric onto the stream: all or none. */
export async function acceptPoints(s: Services, projectId: string, metricId: string, points: IncomingPoint[]) {
  await requireSensorsProject(s, projectId);
  await requireMetric(s, projectId, metricId);
  const records = recordsOf(projectId, metricId, checkPoints(s, metricId, points, Date.now()));
  await send(s, records);
  return { accepted: points.length, metrics: 1 };
}

/** Points of many metrics in one call: every metric must be the project's, every point valid, or nothing is taken. */
export async function acceptManyPoints(
  s: Services,
  projectId: string,
  points: { metricId: string; timestamp: string | number; value: number }[],
) {
  await requireSensorsProject(s, projectId);
  const known = new Set((await s.sensors.listMetrics(projectId)).map((m) => m.id));
  const byMetric = new Map<string, IncomingPoint[]>();
  for (const p of points) {
    if (!known.has(p.metricId))
      throw new ServiceError('NOT_FOUND', `no metric ${p.metricId} in this project`, { metricId: p.metricId });
    let list = byMetric.get(p.metricId);
    if (!list) byMetric.set(p.metricId, (list = []));
    list.push({ time: timeOf(p.timestamp), value: p.value });
  }
  const now = Date.now();
  const records = [...byMetric].flatMap(([metricId, list]) =>
    recordsOf(projectId, metricId, checkPoints(s, metricId, list, now)),
  );
  await send(s, records);
  return { accepted: points.length, metrics: byMetric.size };
}

import { AnomalyGrouper, type GroupingState, type SeriesAnomaly } from '../../engine/series/anomalies.ts';
import { SeriesDetector } from '../../engine/series/detector.ts';
import { loadDetector, saveDetector, type DetectorState } from '../../engine/series/state.ts';
import type { Metric, MetricAnomaly } from '../domain/sensors.ts';
import type { FaultlineEvent } from '../ports/event-publisher.ts';
import type { ReceivedPointRecord } from '../ports/point-stream.ts';
import type { SeriesState } from '../ports/series-store.ts';
import type { Services } from '../services.ts';

/** Metrics of a batch scored at once. */
const METRICS_AT_ONCE = 16;
/** Tries of one metric's batch when another consumer's write got there first (each try starts from its state). */
const MAX_TRIES = 5;

/** Kinesis sequence numbers are decimal strings of up to 128 digits, increasing per shard. */
export const sequenceAfter = (a: string, b: string): boolean => b === '' || BigInt(a) > BigInt(b);

/** A stable anomaly id: it sorts by start time, and the same anomaly found twice (a redelivery) has the same id. */
export const anomalyId = (metricId: string, a: SeriesAnomaly): string =>
  `${String(Date.parse(a.start)).padStart(15, '0')}_${metricId}_${a.type.replace(/ /g, '-')}`;

/** The points a batch scored for one metric, in time order (what the live feed shows). */
export interface ScoredSeries {
  projectId: string;
  siteId: string;
  metricId: string;
  time: number[];
  value: number[];
}

export interface ScoringOutcome {
  scored: number;
  dropped: number;
  anomalies: MetricAnomaly[];
  series: ScoredSeries[];
  /**
   * The first sequence number of the metrics that failed (their error logged), when some did: the stream is to be read
   * again from there (Lambda's reported batch item failure). The other metrics' records are scored and, read again,
   * change nothing.
   */
  failedFrom?: string;
}

function toAnomaly(metric: Metric, a: SeriesAnomaly, detectedAt: string): MetricAnomaly {
  return {
    id: anomalyId(metric.id, a),
    projectId: metric.projectId,
    siteId: metric.siteId,
    assetId: metric.assetId,
    metricId: metric.id,
    type: a.type,
    severity: a.severity,
    start: a.start,
    end: a.end,
    peak: a.peak,
    score: a.score,
    value: a.value,
    expected: a.expected,
    deviationPercent: a.deviation_percent,
    confidence: a.confidence,
    points: a.points,
    detectedAt,
    status: 'open',
    acknowledgedAt: null,
    acknowledgedBy: null,
    note: null,
  };
}

/**
 * One metric's records, in stream order, scored exactly once: the records after the stored state's sequence number
 * go through the detector and the grouper, their points and anomalies are written (idempotent writes, keyed by the
 * record and by the anomaly), and the state is committed only over the revision it was read at. A redelivered batch
 * finds nothing after the stored sequence; a consumer that lost the race starts again from the winner's state.
 */
async function scoreMetric(s: Services, records: ReceivedPointRecord[]): Promise<ScoringOutcome> {
  const { projectId, metricId } = records[0].record;
  const metric = await s.sensors.getMetric(projectId, metricId);
  // A metric deleted since its points were sent: nothing to score them for.
  if (!metric)
    return { scored: 0, dropped: records.reduce((n, r) => n + r.record.t.length, 0), anomalies: [], series: [] };
  for (let attempt = 1; ; attempt++) {
    const stored = await s.series.getState(metricId);
    const fresh = records.filter((r) => sequenceAfter(r.sequence, stored?.sequence ?? ''));
    // Records read again: the last reading may have died after its commit and before its events were out.
    if (fresh.length < records.length) await publishPendingAnomalies(s, { metricId });
    if (fresh.length === 0) return { scored: 0, dropped: 0, anomalies: [], series: [] };
    const detector = stored ? loadDetector(JSON.parse(stored.detector) as DetectorState) : new SeriesDetector();
    const grouper = new AnomalyGrouper(undefined, stored ? (JSON.parse(stored.grouping) as GroupingState) : undefined);
    let lastTime = stored?.lastTime ?? Number.NEGATIVE_INFINITY;
    let scored = 0;
    let dropped = 0;
    const found: SeriesAnomaly[] = [];
    const series: ScoredSeries = { projectId, siteId: metric.siteId, metricId, time: [], value: [] };
    for (const { sequence, record } of fresh) {
      const chunk = { time: [] as number[], value: [] as number[], score: [] as number[] };
      for (let i = 0; i < record.t.length; i++) {
        const t = record.t[i];
        const x = record.x[i];
        // Order per metric is the detector's premise: a point not after the last one scored is counted, not scored.
        if (!(t > lastTime) || !Number.isFinite(x)) {
          dropped++;
          continue;
        }
        lastTime = t;
        const score = detector.step(t, x);
        found.push(...grouper.push(score, x, new Date(t).toISOString()));
        chunk.time.push(t);
        chunk.value.push(x);
        series.time.push(t);
        series.value.push(x);
        chunk.score.push(Math.round(score.score * 1e4) / 1e4);
        scored++;
      }
      if (chunk.time.length > 0) await s.series.putChunk(metricId, sequence, chunk);
    }
    const detectedAt = new Date().toISOString();
    const anomalies = found.map((a) => toAnomaly(metric, a, detectedAt));
    const created: MetricAnomaly[] = [];
    for (const a of anomalies) if (await s.sensors.putAnomaly(a)) created.push(a);
    const next: SeriesState = {
      sequence: fresh[fresh.length - 1].sequence,
      revision: (stored?.revision ?? 0) + 1,
      detector: JSON.stringify(saveDetector(detector)),
      grouping: JSON.stringify(grouper.state),
      lastTime,
      scored: (stored?.scored ?? 0) + scored,
      dropped: (stored?.dropped ?? 0) + dropped,
    };
    if (await s.series.putState(metricId, next)) {
      // Deleted meanwhile (the metric, or its project): what this batch wrote is swept here, as the deletion,
      // which ran before these writes landed, could not see it (service/projects/projects-service.ts sweepProject).
      if (!(await s.sensors.getMetric(projectId, metricId))) {
        await s.series.deleteSeries(metricId);
        for (const a of created) await s.sensors.deleteAnomaly(projectId, a.id);
        return { scored: 0, dropped: scored + dropped, anomalies: [], series: [] };
      }
      await announce(s, projectId, created);
      return { scored, dropped, anomalies: created, series: series.time.length > 0 ? [series] : [] };
    }
    if (attempt >= MAX_TRIES) throw new Error(`metric ${metricId}: state changed under ${attempt} tries in a row`);
  }
}

/** The `Metric Anomaly` event of an anomaly: its id is the anomaly's, so that a subscriber can drop a repeat. */
export const metricAnomalyEvent = (a: MetricAnomaly): FaultlineEvent => ({
  type: 'Metric Anomaly',
  id: `metric-anomaly_${a.projectId}_${a.id}`,
  projectId: a.projectId,
  detail: { ...a },
});

/**
 * Each new anomaly as a `Metric Anomaly` event (the bus, the project's webhook), then marked published. At least
 * once: an anomaly is stored unpublished before the state commit, so a consumer that dies before this leaves it for
 * the next reading of its records or for publishPendingAnomalies; one that dies after publishing and before marking
 * publishes it again, with the same event id.
 */
async function announce(s: Services, projectId: string, anomalies: MetricAnomaly[]): Promise<void> {
  if (anomalies.length === 0) return;
  const project = await s.projects.get(projectId);
  for (const a of anomalies) {
    await s.events.publish(metricAnomalyEvent(a), project);
    await s.sensors.markAnomalyPublished(a.projectId, a.id);
  }
}

/** Anomalies the pending sweep publishes at most in one go (the rest at the next). */
const PENDING_BATCH = 100;
/** The sweep leaves younger anomalies to the consumer that stored them (it is publishing them now). */
export const PENDING_AFTER_MS = 60_000;
let lastSweep = 0;

/**
 * Publishes anomalies stored but never announced: of one metric at once (its records were read again), or, at most
 * once a minute per process, every one older than PENDING_AFTER_MS (a consumer died and its records will not come
 * back: retries exhausted, or the batch went to the failure queue).
 */
export async function publishPendingAnomalies(
  s: Services,
  o: { metricId?: string; now?: number } = {},
): Promise<number> {
  const now = o.now ?? Date.now();
  const before = new Date(o.metricId ? now + 1 : now - PENDING_AFTER_MS).toISOString();
  const pending = await s.sensors.unpublishedAnomalies(before, PENDING_BATCH, o.metricId);
  const byProject = new Map<string, MetricAnomaly[]>();
  for (const a of pending) byProject.set(a.projectId, [...(byProject.get(a.projectId) ?? []), a]);
  for (const [projectId, list] of byProject) await announce(s, projectId, list);
  if (pending.length > 0) s.log({ msg: 'pending anomalies published', count: pending.length, metricId: o.metricId });
  return pending.length;
}

/** The periodic part of publishPendingAnomalies: once a minute per process, called with each batch. */
async function sweepPendingAnomalies(s: Services): Promise<void> {
  const now = Date.now();
  if (now - lastSweep < PENDING_AFTER_MS) return;
  lastSweep = now;
  try {
    await publishPendingAnomalies(s, { now });
  } catch (error) {
    s.log({ level: 'error', msg: 'pending anomalies not published', error: String(error) });
  }
}

/**
 * A batch from the stream (a Lambda invocation's records, or one poll of the local consumer): grouped by metric,
 * each metric's records in order; metrics in parallel (they share nothing).
 */
export async function scorePointRecords(s: Services, batch: ReceivedPointRecord[]): Promise<ScoringOutcome> {
  const byMetric = new Map<string, ReceivedPointRecord[]>();
  for (const r of batch) {
    let list = byMetric.get(r.record.metricId);
    if (!list) byMetric.set(r.record.metricId, (list = []));
    list.push(r);
  }
  await sweepPendingAnomalies(s);
  // A bounded number of metrics at once: a batch of 500 metrics all in flight would queue some 2,000 table requests
  // at once, and every other caller of the table (the API's own requests) would wait behind them.
  const groups = [...byMetric.values()];
  const settled: PromiseSettledResult<ScoringOutcome>[] = new Array(groups.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(METRICS_AT_ONCE, groups.length) }, async () => {
      while (next < groups.length) {
        const k = next++;
        settled[k] = await scoreMetric(s, groups[k]).then(
          (value) => ({ status: 'fulfilled', value }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        );
      }
    }),
  );
  const outcomes = settled.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  let failedFrom: string | undefined;
  [...byMetric.values()].forEach((records, k) => {
    const o = settled[k];
    if (o.status === 'fulfilled') return;
    const first = records[0].sequence;
    s.log({
      level: 'error',
      msg: 'metric batch not scored; to be read again',
      metricId: records[0].record.metricId,
      sequence: first,
      error: o.reason instanceof Error ? (o.reason.stack ?? o.reason.message) : String(o.reason),
    });
    if (failedFrom === undefined || BigInt(first) < BigInt(failedFrom)) failedFrom = first;
  });
  return {
    scored: outcomes.reduce((n, o) => n + o.scored, 0),
    dropped: outcomes.reduce((n, o) => n + o.dropped, 0),
    anomalies: outcomes.flatMap((o) => o.anomalies),
    series: outcomes.flatMap((o) => o.series),
    ...(failedFrom !== undefined ? { failedFrom } : {}),
  };
}

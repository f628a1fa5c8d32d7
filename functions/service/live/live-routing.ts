import type { MetricAnomaly } from '../domain/sensors.ts';
import type { FaultlineEvent } from '../ports/event-publisher.ts';
import type { ScoredSeries } from '../sensors/scoring.ts';
import type { LiveServerMessage } from './live-messages.ts';

/** Most points one `points` message carries per metric; more are counted as skipped (the newest are kept). */
export const MAX_POINTS_PER_MESSAGE = 1000;

/** What a live message is about: a subscription covering it receives it (live-messages.ts `covers`). */
export interface LiveTopic {
  projectId: string;
  siteId?: string;
  metricId?: string;
}

/** A message for the subscribers of its topic. */
export interface LiveDelivery {
  topic: LiveTopic;
  message: LiveServerMessage;
}

/**
 * What subscribers receive of an event the service published, the same locally and in AWS: a Metric Anomaly to those
 * following its project, site or metric; a Detection Completed to those following the image project; nothing of the
 * others.
 */
export function deliveryOfEvent(e: FaultlineEvent): LiveDelivery | undefined {
  if (e.type === 'Metric Anomaly') {
    const anomaly = e.detail as unknown as MetricAnomaly;
    return {
      topic: { projectId: e.projectId, siteId: anomaly.siteId, metricId: anomaly.metricId },
      message: { type: 'anomaly', projectId: e.projectId, anomaly },
    };
  }
  if (e.type === 'Detection Completed') {
    // The bus's copy carries the project id inside: the same message either way.
    const { projectId: _, ...detection } = e.detail;
    return { topic: { projectId: e.projectId }, message: { type: 'detection', projectId: e.projectId, detection } };
  }
  return undefined;
}

/** Newly scored points of one metric as one message, at most MAX_POINTS_PER_MESSAGE (the newest) and a count of the rest. */
export function pointsDelivery(series: ScoredSeries, skippedBefore = 0): LiveDelivery {
  const over = Math.max(0, series.time.length - MAX_POINTS_PER_MESSAGE);
  return {
    topic: { projectId: series.projectId, siteId: series.siteId, metricId: series.metricId },
    message: {
      type: 'points',
      projectId: series.projectId,
      siteId: series.siteId,
      metricId: series.metricId,
      time: series.time.slice(over),
      value: series.value.slice(over),
      skipped: skippedBefore + over,
    },
  };
}

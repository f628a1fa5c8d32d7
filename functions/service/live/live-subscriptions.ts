import type { Principal } from '../auth/principal.ts';
import type { MetricAnomaly } from '../domain/sensors.ts';
import { ServiceError } from '../errors.ts';
import { authorizeProject } from '../projects/projects-service.ts';
import { detectionCompletedDetail } from '../detection/detection-event.ts';
import { requireMetric, requireSite } from '../sensors/catalogue-service.ts';
import { listMetricAnomalies } from '../sensors/series-views.ts';
import type { Services } from '../services.ts';
import { MAX_REPLAY_ITEMS, type Subscription } from './live-messages.ts';

/**
 * Whether the caller may follow this: the project as for the HTTP API (another's project reads as not found), and the
 * site or metric in that project. Throws the ServiceError the HTTP API would answer with.
 */
export async function authorizeSubscription(s: Services, by: Principal, sub: Subscription): Promise<void> {
  await authorizeProject(s, sub.projectId, by);
  if (sub.siteId) await requireSite(s, sub.projectId, sub.siteId);
  else if (sub.metricId) await requireMetric(s, sub.projectId, sub.metricId);
  else if (!(await s.projects.get(sub.projectId)))
    throw new ServiceError('NOT_FOUND', `project ${sub.projectId} not found`);
}

/**
 * What happened under the subscription since `since` (ms), up to the replay's limit, newest first: the anomalies that
 * started since then (sensors project) or the detections made since then (image project, project subscriptions).
 */
export async function replaySince(
  s: Services,
  sub: Subscription,
  since: number,
): Promise<{ anomalies: MetricAnomaly[]; detections: Record<string, unknown>[]; complete: boolean }> {
  const project = await s.projects.get(sub.projectId);
  if (project?.kind === 'sensors') return { ...(await replayAnomalies(s, sub, since)), detections: [] };
  const detections: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  do {
    const page = await s.results.list(
      sub.projectId,
      { since: new Date(since).toISOString() },
      Math.min(100, MAX_REPLAY_ITEMS - detections.length),
      cursor,
    );
    detections.push(...page.items.map(detectionCompletedDetail));
    cursor = page.cursor ?? undefined;
  } while (cursor && detections.length < MAX_REPLAY_ITEMS);
  return { anomalies: [], detections, complete: !cursor };
}

async function replayAnomalies(
  s: Services,
  sub: Subscription,
  since: number,
): Promise<{ anomalies: MetricAnomaly[]; complete: boolean }> {
  const anomalies: MetricAnomaly[] = [];
  let cursor: string | undefined;
  do {
    const page = await listMetricAnomalies(
      s,
      sub.projectId,
      { siteId: sub.siteId, metricId: sub.metricId, from: since },
      Math.min(100, MAX_REPLAY_ITEMS - anomalies.length),
      cursor,
    );
    anomalies.push(...page.items);
    cursor = page.cursor ?? undefined;
  } while (cursor && anomalies.length < MAX_REPLAY_ITEMS);
  return { anomalies, complete: !cursor };
}

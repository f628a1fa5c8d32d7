import type { Principal } from '../auth/principal.ts';
import type { MetricAnomaly } from '../domain/sensors.ts';
import { ServiceError } from '../errors.ts';
import { authorizeProject } from '../projects/projects-service.ts';
import { requireMetric, requireSite } from '../sensors/catalogue-service.ts';
import { listMetricAnomalies } from '../sensors/series-views.ts';
import type { Services } from '../services.ts';
import { MAX_REPLAY_ANOMALIES, type Subscription } from './live-messages.ts';

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

/** The anomalies under the subscription that started at or after `since` (ms), oldest first, up to the replay's limit. */
export async function replayAnomalies(
  s: Services,
  sub: Subscription,
  since: number,
): Promise<{ anomalies: MetricAnomaly[]; complete: boolean }> {
  const project = await s.projects.get(sub.projectId);
  // Image projects have detections, not anomalies: their replay is empty (GET .../results lists detections).
  if (project?.kind !== 'sensors') return { anomalies: [], complete: true };
  const anomalies: MetricAnomaly[] = [];
  let cursor: string | undefined;
  do {
    const page = await listMetricAnomalies(
      s,
      sub.projectId,
      { siteId: sub.siteId, metricId: sub.metricId, from: since },
      Math.min(100, MAX_REPLAY_ANOMALIES - anomalies.length),
      cursor,
    );
    anomalies.push(...page.items);
    cursor = page.cursor ?? undefined;
  } while (cursor && anomalies.length < MAX_REPLAY_ANOMALIES);
  return { anomalies, complete: !cursor };
}

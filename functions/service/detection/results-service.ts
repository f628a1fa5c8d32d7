import type { DetectionRecord } from '../domain/detection-record.ts';
import { ServiceError } from '../errors.ts';
import { requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import type { ResultFilter } from '../ports/result-store.ts';
import { presentRecord } from './detection-service.ts';

export type ResultView = DetectionRecord & { visualizations: Record<string, string> | null; image_url?: string };

const withUrls = async (s: Services, r: DetectionRecord): Promise<ResultView> => {
  const { evidence, ...urls } = await presentRecord(s, r);
  return { ...r, result: { ...r.result, evidence }, ...urls };
};

export async function listResults(
  s: Services,
  projectId: string,
  filter: ResultFilter,
  limit: number,
  cursor?: string,
): Promise<{ items: ResultView[]; cursor: string | null }> {
  await requireProject(s, projectId);
  const page = await s.results.list(projectId, filter, limit, cursor);
  return { items: await Promise.all(page.items.map((r) => withUrls(s, r))), cursor: page.cursor };
}

export async function getResult(s: Services, projectId: string, id: string): Promise<ResultView> {
  const record = await s.results.get(projectId, id);
  if (!record) throw new ServiceError('NOT_FOUND', `no result ${id} in project ${projectId}`, { resultId: id });
  return withUrls(s, record);
}

export interface BatchSummary {
  batchId: string;
  total_images: number;
  faulty_count: number;
  normal_count: number;
  by_classification: Record<string, number>;
  average_score: number;
  average_processing_time: number;
  first_at: string | null;
  last_at: string | null;
}

export function summarise(batchId: string, records: Pick<DetectionRecord, 'result' | 'createdAt'>[]): BatchSummary {
  const byClass: Record<string, number> = {};
  let faulty = 0;
  let scores = 0;
  let time = 0;
  for (const r of records) {
    byClass[r.result.classification] = (byClass[r.result.classification] ?? 0) + 1;
    if (r.result.is_anomalous) faulty++;
    scores += r.result.anomaly_score;
    time += r.result.processing_time;
  }
  const n = records.length;
  const times = records.map((r) => r.createdAt).sort();
  return {
    batchId,
    total_images: n,
    faulty_count: faulty,
    normal_count: n - faulty,
    by_classification: byClass,
    average_score: n ? Number((scores / n).toFixed(4)) : 0,
    average_processing_time: n ? Number((time / n).toFixed(4)) : 0,
    first_at: times[0] ?? null,
    last_at: times[n - 1] ?? null,
  };
}

export async function batchSummary(s: Services, projectId: string, batchId: string): Promise<BatchSummary> {
  await requireProject(s, projectId);
  return summarise(batchId, await s.results.batch(projectId, batchId));
}

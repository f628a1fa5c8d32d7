import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type {
  Asset,
  createAssetSchema,
  createMetricSchema,
  createSiteSchema,
  Metric,
  Site,
  updateAssetSchema,
  updateMetricSchema,
  updateSiteSchema,
} from '../domain/sensors.ts';
import { ServiceError } from '../errors.ts';
import { seriesArchivePrefix } from '../object-keys.ts';
import type { ProjectItem } from '../ports/project-store.ts';
import { requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';

/** Sites, assets and metrics of a sensors project: the catalogue the points and anomalies hang on. */

const notFound = (what: string, id: string) => new ServiceError('NOT_FOUND', `no ${what} ${id}`, { [`${what}Id`]: id });

/** The project, if it is a sensors project (the route has checked the caller already). */
export async function requireSensorsProject(s: Services, projectId: string): Promise<ProjectItem> {
  const project = await requireProject(s, projectId);
  if (project.kind !== 'sensors')
    throw new ServiceError('WRONG_PROJECT_KIND', `project ${projectId} is of kind ${project.kind}, not sensors`, {
      projectId,
      kind: project.kind,
    });
  return project;
}

export async function createSite(s: Services, projectId: string, input: z.infer<typeof createSiteSchema>) {
  await requireSensorsProject(s, projectId);
  const now = new Date().toISOString();
  const site: Site = { id: randomUUID(), projectId, ...input, createdAt: now, updatedAt: now };
  await s.sensors.createSite(site);
  return site;
}

export async function requireSite(s: Services, projectId: string, siteId: string): Promise<Site> {
  const site = await s.sensors.getSite(projectId, siteId);
  if (!site) throw notFound('site', siteId);
  return site;
}

export async function updateSite(
  s: Services,
  projectId: string,
  siteId: string,
  change: z.infer<typeof updateSiteSchema>,
) {
  return (await s.sensors.updateSite(projectId, siteId, change)) ?? Promise.reject(notFound('site', siteId));
}

/** A site goes with its assets and their metrics (points and detector state included). */
export async function deleteSite(s: Services, projectId: string, siteId: string) {
  await requireSite(s, projectId, siteId);
  let assets = 0;
  let metrics = 0;
  for (const asset of await s.sensors.listAssets(projectId, siteId)) {
    metrics += (await deleteAsset(s, projectId, asset.id)).deletedMetrics;
    assets++;
  }
  if (!(await s.sensors.deleteSite(projectId, siteId))) throw notFound('site', siteId);
  return { deletedAssets: assets, deletedMetrics: metrics };
}

export async function createAsset(s: Services, projectId: string, input: z.infer<typeof createAssetSchema>) {
  await requireSensorsProject(s, projectId);
  await requireSite(s, projectId, input.siteId);
  const now = new Date().toISOString();
  const asset: Asset = { id: randomUUID(), projectId, ...input, createdAt: now, updatedAt: now };
  await s.sensors.createAsset(asset);
  return asset;
}

export async function requireAsset(s: Services, projectId: string, assetId: string): Promise<Asset> {
  const asset = await s.sensors.getAsset(projectId, assetId);
  if (!asset) throw notFound('asset', assetId);
  return asset;
}

export async function updateAsset(
  s: Services,
  projectId: string,
  assetId: string,
  change: z.infer<typeof updateAssetSchema>,
) {
  return (await s.sensors.updateAsset(projectId, assetId, change)) ?? Promise.reject(notFound('asset', assetId));
}

export async function deleteAsset(s: Services, projectId: string, assetId: string) {
  await requireAsset(s, projectId, assetId);
  const metrics = await s.sensors.listMetrics(projectId, { assetId });
  for (const m of metrics) await deleteMetric(s, projectId, m.id);
  if (!(await s.sensors.deleteAsset(projectId, assetId))) throw notFound('asset', assetId);
  return { deletedMetrics: metrics.length };
}

export async function createMetric(s: Services, projectId: string, input: z.infer<typeof createMetricSchema>) {
  await requireSensorsProject(s, projectId);
  const asset = await requireAsset(s, projectId, input.assetId);
  const now = new Date().toISOString();
  const metric: Metric = {
    id: randomUUID(),
    projectId,
    siteId: asset.siteId,
    ...input,
    createdAt: now,
    updatedAt: now,
  };
  await s.sensors.createMetric(metric);
  return metric;
}

export async function requireMetric(s: Services, projectId: string, metricId: string): Promise<Metric> {
  const metric = await s.sensors.getMetric(projectId, metricId);
  if (!metric) throw notFound('metric', metricId);
  return metric;
}

export async function updateMetric(
  s: Services,
  projectId: string,
  metricId: string,
  change: z.infer<typeof updateMetricSchema>,
) {
  return (await s.sensors.updateMetric(projectId, metricId, change)) ?? Promise.reject(notFound('metric', metricId));
}

export async function deleteMetric(s: Services, projectId: string, metricId: string) {
  if (!(await s.sensors.deleteMetric(projectId, metricId))) throw notFound('metric', metricId);
  await s.series.deleteSeries(metricId);
  await s.objects.deletePrefix(seriesArchivePrefix(projectId, metricId));
  return { deleted: true };
}

import { api, call } from '../api/client.ts';
import type { Asset, Metric, Site } from '../api/sensors.ts';
import { type Resource, useResource } from './use-resource.ts';

export interface SensorCatalogue {
  sites: Site[];
  assets: Asset[];
  metrics: Metric[];
}

/** A sensors project's sites, assets and metrics, loaded together (the screens name and filter by them). */
export function useSensorCatalogue(projectId: string): Resource<SensorCatalogue> {
  return useResource(async () => {
    const path = { path: { projectId } };
    const [sites, assets, metrics] = await Promise.all([
      call(api().GET('/api/v1/projects/{projectId}/sites', { params: path })),
      call(api().GET('/api/v1/projects/{projectId}/assets', { params: path })),
      call(api().GET('/api/v1/projects/{projectId}/metrics', { params: path })),
    ]);
    return { sites: sites.items, assets: assets.items, metrics: metrics.items };
  }, [projectId]);
}

/** "Asset · metric" and the unit of a metric id, for lists that show anomalies of many metrics. */
export function metricNamer(c: SensorCatalogue | undefined): (metricId: string) => { label: string; unit: string } {
  const assets = new Map(c?.assets.map((a) => [a.id, a]));
  const metrics = new Map(c?.metrics.map((m) => [m.id, m]));
  return (metricId) => {
    const m = metrics.get(metricId);
    if (!m) return { label: `metric ${metricId.slice(0, 8)} (deleted)`, unit: '' };
    const asset = assets.get(m.assetId);
    return { label: asset ? `${asset.name} · ${m.name}` : m.name, unit: m.unit };
  };
}

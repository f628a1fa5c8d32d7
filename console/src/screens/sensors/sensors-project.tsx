import { Link } from '../../router.tsx';
import type { ProjectTabProps } from '../project.tsx';
import { SettingsScreen } from '../settings.tsx';
import { AnomaliesScreen } from './anomalies.tsx';
import { MaintenanceScreen } from './maintenance.tsx';
import { MetricScreen } from './metric.tsx';
import { SiteScreen } from './site.tsx';
import { SitesScreen } from './sites.tsx';

/** A sensors project's screens: its sites (with assets and metrics, each metric's chart), anomalies, maintenance. */
export const SENSORS_TABS = [
  { id: 'sites', label: 'Sites' },
  { id: 'anomalies', label: 'Anomalies' },
  { id: 'maintenance', label: 'Maintenance' },
  { id: 'settings', label: 'Settings' },
] as const;

/** The tab a sensors page belongs to in the project's navigation (a metric's chart is reached from its site). */
export const sensorsTabOf = (tab: string): string => (tab === 'metrics' ? 'sites' : tab);

export function SensorsScreen({ tab, itemId, ...props }: ProjectTabProps & { tab: string; itemId?: string }) {
  const id = props.project.id;
  if (tab === 'sites') return itemId ? <SiteScreen {...props} siteId={itemId} /> : <SitesScreen {...props} />;
  if (tab === 'metrics' && itemId) return <MetricScreen key={itemId} {...props} metricId={itemId} />;
  if (tab === 'anomalies') return <AnomaliesScreen {...props} />;
  if (tab === 'maintenance') return <MaintenanceScreen {...props} assetId={itemId} />;
  if (tab === 'settings') return <SettingsScreen {...props} />;
  return (
    <>
      <h1>Page not found</h1>
      <p>
        This sensors project has no page “{tab}”. <Link href={`/projects/${id}/sites`}>Go to its sites</Link>.
      </p>
    </>
  );
}

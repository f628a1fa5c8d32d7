import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api/client.ts';
import { EmptyState, ErrorNotice, Skeleton } from '../../components/status.tsx';
import { formatPercent, formatTime } from '../../format.ts';
import { useResource } from '../../hooks/use-resource.ts';
import { useSensorCatalogue } from '../../hooks/use-sensor-catalogue.ts';
import { Link, navigate } from '../../router.tsx';
import type { ProjectTabProps } from '../project.tsx';

const HORIZONS = [
  { id: '24h', label: 'Next 24 hours' },
  { id: '7d', label: 'Next 7 days' },
  { id: '30d', label: 'Next 30 days' },
] as const;

/**
 * Predictive maintenance per asset: for each metric with limits, when its forecast is expected to cross one, the
 * earliest plausible time (the 95 % bound), and how likely within the horizon; metrics not forecast yet say why.
 */
export function MaintenanceScreen({ project, assetId }: ProjectTabProps & { assetId?: string }) {
  const projectId = project.id;
  const catalogue = useSensorCatalogue(projectId);
  const [horizon, setHorizon] = useState<string>('24h');
  useEffect(() => {
    document.title = `Maintenance · ${project.name} · Faultline`;
  }, [project.name]);
  const c = catalogue.data;
  return (
    <>
      <h1>Maintenance</h1>
      <p class="lead">
        Which metric of an asset is expected to cross its limit, when, and how sure the forecast is. Give metrics limits
        on their site’s page.
      </p>
      {catalogue.error ? (
        <ErrorNotice error={catalogue.error} title="The assets could not be loaded" onRetry={catalogue.reload} />
      ) : !c ? (
        <Skeleton rows={3} label="Loading assets" />
      ) : c.assets.length === 0 ? (
        <EmptyState title="No assets yet">
          Add a site and its assets first: <Link href={`/projects/${projectId}/sites`}>go to the sites</Link>.
        </EmptyState>
      ) : (
        <div class="filters">
          <label class="field">
            <span>Asset</span>
            <select
              value={assetId ?? ''}
              onChange={(e) => navigate(`/projects/${projectId}/maintenance/${e.currentTarget.value}`)}
            >
              {assetId ? null : <option value="">Choose an asset</option>}
              {c.sites.map((site) => (
                <optgroup key={site.id} label={site.name}>
                  {c.assets
                    .filter((a) => a.siteId === site.id)
                    .map((a) => (
                      <option key={a.id} value={a.id}>
                        {a.name}
                      </option>
                    ))}
                </optgroup>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Horizon</span>
            <select value={horizon} onChange={(e) => setHorizon(e.currentTarget.value)}>
              {HORIZONS.map((h) => (
                <option key={h.id} value={h.id}>
                  {h.label}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {assetId ? (
        <AssetMaintenanceView
          projectId={projectId}
          assetId={assetId}
          horizon={horizon}
          metricName={(id) => c?.metrics.find((x) => x.id === id)?.name ?? 'metric'}
        />
      ) : null}
    </>
  );
}

function AssetMaintenanceView({
  projectId,
  assetId,
  horizon,
  metricName,
}: {
  projectId: string;
  assetId: string;
  horizon: string;
  metricName: (metricId: string) => string;
}) {
  const view = useResource(
    () =>
      call(
        api().GET('/api/v1/projects/{projectId}/assets/{assetId}/maintenance', {
          params: { path: { projectId, assetId }, query: { horizon } },
        }),
      ),
    [projectId, assetId, horizon],
  );
  if (view.error)
    return <ErrorNotice error={view.error} title="The maintenance forecast could not be made" onRetry={view.reload} />;
  if (!view.data) return <Skeleton rows={3} label="Forecasting" />;
  const m = view.data;
  return (
    <section aria-labelledby="maintenance-of" aria-busy={view.loading}>
      <h2 id="maintenance-of">{m.assetName}</h2>
      {m.items.length === 0 && m.skipped.length === 0 ? (
        <EmptyState title="No metric of this asset has limits">
          Give a metric a lower or upper limit to see when it is expected to cross it.
        </EmptyState>
      ) : null}
      {m.items.length ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Expected limit crossings of {m.assetName}, soonest first</caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Limit</th>
                <th scope="col">Expected crossing</th>
                <th scope="col">Earliest (95 %)</th>
                <th scope="col">Likelihood within {m.horizon}</th>
                <th scope="col">Confidence</th>
              </tr>
            </thead>
            <tbody>
              {m.items.map((i) => (
                <tr key={i.metricId}>
                  <td>
                    <Link href={`/projects/${projectId}/metrics/${i.metricId}`}>{i.metricName}</Link>
                  </td>
                  <td>
                    {i.direction === 'rising' ? 'upper' : 'lower'} {i.limit}
                    {i.unit ? ` ${i.unit}` : ''}
                  </td>
                  <td>
                    {i.forecast_crossing ? formatTime(i.forecast_crossing) : <span class="muted">Not within</span>}
                  </td>
                  <td>{i.bound95_crossing ? formatTime(i.bound95_crossing) : <span class="muted">Not within</span>}</td>
                  <td>{formatPercent(i.probability)}</td>
                  <td>
                    <span class={`badge confidence-${i.confidence}`}>{i.confidence}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {m.skipped.length ? (
        <div class="notice">
          <strong>Not forecast yet</strong>
          <ul>
            {m.skipped.map((s) => (
              <li key={s.metricId}>
                <Link href={`/projects/${projectId}/metrics/${s.metricId}`}>{metricName(s.metricId)}</Link>: {s.reason}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

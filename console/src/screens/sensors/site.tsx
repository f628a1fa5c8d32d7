import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api/client.ts';
import type { Asset, Metric } from '../../api/sensors.ts';
import { ConfirmDialog } from '../../components/confirm-dialog.tsx';
import { Facts } from '../../components/facts.tsx';
import { EmptyState, ErrorNotice, Skeleton } from '../../components/status.tsx';
import { useResource } from '../../hooks/use-resource.ts';
import { Link } from '../../router.tsx';
import type { ProjectTabProps } from '../project.tsx';
import { describeLocation, numberOrUndefined, SiteForm } from './sites.tsx';
import { RowActions } from '../../components/row-actions.tsx';

/** One site: its facts, its assets (name, kind, tags) and each asset's metrics (unit, limits, expected interval). */
export function SiteScreen({ project, siteId }: ProjectTabProps & { siteId: string }) {
  const projectId = project.id;
  const data = useResource(async () => {
    const [site, assets, metrics] = await Promise.all([
      call(api().GET('/api/v1/projects/{projectId}/sites/{siteId}', { params: { path: { projectId, siteId } } })),
      call(api().GET('/api/v1/projects/{projectId}/assets', { params: { path: { projectId }, query: { siteId } } })),
      call(api().GET('/api/v1/projects/{projectId}/metrics', { params: { path: { projectId }, query: { siteId } } })),
    ]);
    return { site, assets: assets.items, metrics: metrics.items };
  }, [projectId, siteId]);
  const [editingSite, setEditingSite] = useState(false);
  const [deleting, setDeleting] = useState<{ what: 'asset'; asset: Asset } | { what: 'metric'; metric: Metric }>();
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => {
    if (data.data) document.title = `${data.data.site.name} · ${project.name} · Faultline`;
  }, [data.data, project.name]);

  if (!data.data)
    return data.error ? (
      <>
        <ErrorNotice error={data.error} title="The site could not be loaded" onRetry={data.reload} />
        <p>
          <Link href={`/projects/${projectId}/sites`}>Back to the sites</Link>
        </p>
      </>
    ) : (
      <Skeleton rows={4} label="Loading the site" />
    );
  const { site, assets, metrics } = data.data;
  const change = (c: Partial<typeof data.data>) => data.set({ ...data.data!, ...c });

  return (
    <>
      <p class="crumb">
        <Link href={`/projects/${projectId}/sites`}>Sites</Link>
      </p>
      <h1>{site.name}</h1>
      <p class="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      {editingSite ? (
        <section class="card" aria-label="Edit the site">
          <SiteForm
            projectId={projectId}
            site={site}
            submitLabel="Save site"
            onCancel={() => setEditingSite(false)}
            onSaved={(saved) => {
              change({ site: saved });
              setEditingSite(false);
              setAnnouncement('Site saved.');
            }}
          />
        </section>
      ) : (
        <div class="section-head">
          <Facts
            items={[
              ['Location', describeLocation(site) || 'Not given'],
              ['Time zone', site.timeZone],
              ['Assets', String(assets.length)],
              ['Metrics', String(metrics.length)],
            ]}
          />
          <button type="button" class="button secondary small" onClick={() => setEditingSite(true)}>
            Edit site
          </button>
        </div>
      )}

      <section class="card" aria-labelledby="new-asset">
        <h2 id="new-asset">New asset</h2>
        <AssetForm
          projectId={projectId}
          siteId={siteId}
          submitLabel="Add asset"
          onSaved={(asset) => {
            change({ assets: [...assets, asset] });
            setAnnouncement(`Asset ${asset.name} added.`);
          }}
        />
      </section>

      <section aria-labelledby="assets">
        <h2 id="assets">Assets</h2>
        {assets.length === 0 ? (
          <EmptyState title="No assets yet">Add the machines of this site above, then their metrics.</EmptyState>
        ) : (
          assets.map((asset) => (
            <AssetCard
              key={asset.id}
              projectId={projectId}
              asset={asset}
              metrics={metrics.filter((m) => m.assetId === asset.id)}
              onAssetSaved={(saved) => change({ assets: assets.map((a) => (a.id === saved.id ? saved : a)) })}
              onMetricSaved={(saved) => {
                const known = metrics.some((m) => m.id === saved.id);
                change({ metrics: known ? metrics.map((m) => (m.id === saved.id ? saved : m)) : [...metrics, saved] });
                setAnnouncement(`Metric ${saved.name} saved.`);
              }}
              onDeleteAsset={() => setDeleting({ what: 'asset', asset })}
              onDeleteMetric={(metric) => setDeleting({ what: 'metric', metric })}
            />
          ))
        )}
      </section>

      {deleting?.what === 'asset' ? (
        <ConfirmDialog
          title={`Delete the asset “${deleting.asset.name}”?`}
          confirmLabel="Delete asset"
          onClose={() => setDeleting(undefined)}
          action={async () => {
            await call(
              api().DELETE('/api/v1/projects/{projectId}/assets/{assetId}', {
                params: { path: { projectId, assetId: deleting.asset.id } },
              }),
            );
            change({
              assets: assets.filter((a) => a.id !== deleting.asset.id),
              metrics: metrics.filter((m) => m.assetId !== deleting.asset.id),
            });
            setAnnouncement(`Asset ${deleting.asset.name} deleted.`);
          }}
        >
          Its metrics, with their points, anomalies and detector state, are deleted for good.
        </ConfirmDialog>
      ) : deleting?.what === 'metric' ? (
        <ConfirmDialog
          title={`Delete the metric “${deleting.metric.name}”?`}
          confirmLabel="Delete metric"
          onClose={() => setDeleting(undefined)}
          action={async () => {
            await call(
              api().DELETE('/api/v1/projects/{projectId}/metrics/{metricId}', {
                params: { path: { projectId, metricId: deleting.metric.id } },
              }),
            );
            change({ metrics: metrics.filter((m) => m.id !== deleting.metric.id) });
            setAnnouncement(`Metric ${deleting.metric.name} deleted.`);
          }}
        >
          Its points, anomalies and detector state are deleted for good.
        </ConfirmDialog>
      ) : null}
    </>
  );
}

function AssetCard({
  projectId,
  asset,
  metrics,
  onAssetSaved,
  onMetricSaved,
  onDeleteAsset,
  onDeleteMetric,
}: {
  projectId: string;
  asset: Asset;
  metrics: Metric[];
  onAssetSaved: (a: Asset) => void;
  onMetricSaved: (m: Metric) => void;
  onDeleteAsset: () => void;
  onDeleteMetric: (m: Metric) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [editingMetric, setEditingMetric] = useState<string>();
  const headingId = `asset-${asset.id}`;
  return (
    <section class="card asset-card" aria-labelledby={headingId}>
      {editing ? (
        <AssetForm
          projectId={projectId}
          asset={asset}
          submitLabel="Save asset"
          onCancel={() => setEditing(false)}
          onSaved={(saved) => {
            onAssetSaved(saved);
            setEditing(false);
          }}
        />
      ) : (
        <div class="section-head">
          <div>
            <h3 id={headingId}>{asset.name}</h3>
            <p class="muted small">
              {asset.kind}
              {asset.tags.length ? ` · ${asset.tags.join(', ')}` : ''}
            </p>
          </div>
          <div class="actions">
            <Link class="button secondary small" href={`/projects/${projectId}/maintenance/${asset.id}`}>
              Maintenance
            </Link>
            <button
              type="button"
              class="button secondary small"
              aria-label={`Edit ${asset.name}`}
              onClick={() => setEditing(true)}
            >
              Edit
            </button>
            <button
              type="button"
              class="button danger-outline small"
              aria-label={`Delete ${asset.name}`}
              onClick={onDeleteAsset}
            >
              Delete
            </button>
          </div>
        </div>
      )}
      {metrics.length === 0 ? (
        <p class="muted">No metrics yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Metrics of {asset.name}</caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Unit</th>
                <th scope="col">Limits</th>
                <th scope="col">Expected interval</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {metrics.map((m) =>
                editingMetric === m.id ? (
                  <tr key={m.id}>
                    <td colSpan={5}>
                      <MetricForm
                        projectId={projectId}
                        assetId={asset.id}
                        metric={m}
                        submitLabel="Save metric"
                        onCancel={() => setEditingMetric(undefined)}
                        onSaved={(saved) => {
                          onMetricSaved(saved);
                          setEditingMetric(undefined);
                        }}
                      />
                    </td>
                  </tr>
                ) : (
                  <tr key={m.id}>
                    <td>
                      <Link href={`/projects/${projectId}/metrics/${m.id}`}>{m.name}</Link>
                    </td>
                    <td>{m.unit || <span class="muted">none</span>}</td>
                    <td>{describeLimits(m)}</td>
                    <td>{m.expectedIntervalSeconds} s</td>
                    <RowActions
                      name={m.name}
                      onEdit={() => setEditingMetric(m.id)}
                      onDelete={() => onDeleteMetric(m)}
                    />
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
      <details class="add-metric">
        <summary>Add a metric to {asset.name}</summary>
        <MetricForm projectId={projectId} assetId={asset.id} submitLabel="Add metric" onSaved={onMetricSaved} />
      </details>
    </section>
  );
}

export function describeLimits(m: Metric): string {
  const { lower, upper } = m.limits;
  const unit = m.unit ? ` ${m.unit}` : '';
  if (lower !== undefined && upper !== undefined) return `${lower} to ${upper}${unit}`;
  if (upper !== undefined) return `at most ${upper}${unit}`;
  if (lower !== undefined) return `at least ${lower}${unit}`;
  return 'none';
}

/** Creates an asset of the site, or changes one when `asset` is given. */
function AssetForm({
  projectId,
  siteId,
  asset,
  submitLabel,
  onSaved,
  onCancel,
}: {
  projectId: string;
  siteId?: string;
  asset?: Asset;
  submitLabel: string;
  onSaved: (a: Asset) => void;
  onCancel?: () => void;
}) {
  const [name, setName] = useState(asset?.name ?? '');
  const [kind, setKind] = useState(asset?.kind ?? '');
  const [tags, setTags] = useState(asset?.tags.join(', ') ?? '');
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const submit = async (e: Event) => {
    e.preventDefault();
    setState({ busy: true });
    const body = {
      name,
      kind: kind.trim() || 'generic',
      tags: tags
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    };
    try {
      const saved = asset
        ? await call(
            api().PATCH('/api/v1/projects/{projectId}/assets/{assetId}', {
              params: { path: { projectId, assetId: asset.id } },
              body,
            }),
          )
        : await call(
            api().POST('/api/v1/projects/{projectId}/assets', {
              params: { path: { projectId } },
              body: { ...body, siteId: siteId! },
            }),
          );
      setState({ busy: false });
      if (!asset) {
        setName('');
        setKind('');
        setTags('');
      }
      onSaved(saved);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return (
    <form class="inline-form" aria-label={asset ? `Edit asset ${asset.name}` : 'New asset'} onSubmit={submit}>
      <label class="field">
        <span>Asset name</span>
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} />
      </label>
      <label class="field">
        <span>Kind</span>
        <input
          value={kind}
          onInput={(e) => setKind(e.currentTarget.value)}
          maxLength={64}
          placeholder="e.g. pump, inverter"
        />
      </label>
      <label class="field grow">
        <span>Tags (comma-separated)</span>
        <input value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
      </label>
      <button type="submit" class="button" disabled={state.busy || !name.trim()}>
        {state.busy ? 'Saving…' : submitLabel}
      </button>
      {onCancel ? (
        <button type="button" class="button secondary" onClick={onCancel}>
          Cancel
        </button>
      ) : null}
      {state.error ? (
        <ErrorNotice error={state.error} title={asset ? 'The asset was not saved' : 'The asset was not added'} />
      ) : null}
    </form>
  );
}

/** Creates a metric of the asset, or changes one when `metric` is given. */
function MetricForm({
  projectId,
  assetId,
  metric,
  submitLabel,
  onSaved,
  onCancel,
}: {
  projectId: string;
  assetId: string;
  metric?: Metric;
  submitLabel: string;
  onSaved: (m: Metric) => void;
  onCancel?: () => void;
}) {
  const [name, setName] = useState(metric?.name ?? '');
  const [unit, setUnit] = useState(metric?.unit ?? '');
  const [lower, setLower] = useState(metric?.limits.lower?.toString() ?? '');
  const [upper, setUpper] = useState(metric?.limits.upper?.toString() ?? '');
  const [interval, setIntervalSeconds] = useState(String(metric?.expectedIntervalSeconds ?? 60));
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const submit = async (e: Event) => {
    e.preventDefault();
    setState({ busy: true });
    const body = {
      name,
      unit: unit.trim(),
      limits: { lower: numberOrUndefined(lower), upper: numberOrUndefined(upper) },
      expectedIntervalSeconds: Number(interval),
    };
    try {
      const saved = metric
        ? await call(
            api().PATCH('/api/v1/projects/{projectId}/metrics/{metricId}', {
              params: { path: { projectId, metricId: metric.id } },
              body,
            }),
          )
        : await call(
            api().POST('/api/v1/projects/{projectId}/metrics', {
              params: { path: { projectId } },
              body: { ...body, assetId },
            }),
          );
      setState({ busy: false });
      if (!metric) {
        setName('');
        setUnit('');
        setLower('');
        setUpper('');
      }
      onSaved(saved);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return (
    <form class="inline-form" aria-label={metric ? `Edit metric ${metric.name}` : 'New metric'} onSubmit={submit}>
      <label class="field">
        <span>Metric name</span>
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} />
      </label>
      <label class="field narrow">
        <span>Unit</span>
        <input value={unit} onInput={(e) => setUnit(e.currentTarget.value)} maxLength={32} placeholder="e.g. °C" />
      </label>
      <label class="field narrow">
        <span>Lower limit</span>
        <input value={lower} onInput={(e) => setLower(e.currentTarget.value)} inputMode="decimal" />
      </label>
      <label class="field narrow">
        <span>Upper limit</span>
        <input value={upper} onInput={(e) => setUpper(e.currentTarget.value)} inputMode="decimal" />
      </label>
      <label class="field narrow">
        <span>Expected interval (s)</span>
        <input
          type="number"
          min={1}
          max={86400}
          step={1}
          value={interval}
          onInput={(e) => setIntervalSeconds(e.currentTarget.value)}
          required
        />
      </label>
      <button type="submit" class="button" disabled={state.busy || !name.trim()}>
        {state.busy ? 'Saving…' : submitLabel}
      </button>
      {onCancel ? (
        <button type="button" class="button secondary" onClick={onCancel}>
          Cancel
        </button>
      ) : null}
      {state.error ? (
        <ErrorNotice error={state.error} title={metric ? 'The metric was not saved' : 'The metric was not added'} />
      ) : null}
    </form>
  );
}

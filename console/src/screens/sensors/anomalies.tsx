import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api/client.ts';
import type { LiveMessage } from '../../api/live-feed.ts';
import { type MetricAnomaly, type Severity, SEVERITIES } from '../../api/sensors.ts';
import { AnomalyTable, mergeAnomalies } from '../../components/anomaly-table.tsx';
import { EmptyState, ErrorNotice, Skeleton } from '../../components/status.tsx';
import { LIVE_STATUS_TEXT, useLiveFeed } from '../../hooks/use-live-feed.ts';
import { usePages } from '../../hooks/use-pages.ts';
import { metricNamer, useSensorCatalogue } from '../../hooks/use-sensor-catalogue.ts';
import type { ProjectTabProps } from '../project.tsx';

interface Filter {
  siteId: string;
  assetId: string;
  metricId: string;
  severities: Severity[];
  status: '' | 'open' | 'acknowledged';
  from: string;
  to: string;
}
const NO_FILTER: Filter = { siteId: '', assetId: '', metricId: '', severities: [], status: '', from: '', to: '' };

/** Whether an anomaly that arrived live belongs in the list as filtered. */
function matches(a: MetricAnomaly, f: Filter): boolean {
  const start = Date.parse(a.start);
  return (
    (!f.siteId || a.siteId === f.siteId) &&
    (!f.assetId || a.assetId === f.assetId) &&
    (!f.metricId || a.metricId === f.metricId) &&
    (!f.severities.length || f.severities.includes(a.severity)) &&
    (!f.status || a.status === f.status) &&
    (!f.from || start >= Date.parse(f.from)) &&
    (!f.to || start <= Date.parse(f.to))
  );
}

/** The project's anomalies, newest first, filtered; acknowledge each; new ones appear as the live feed brings them. */
export function AnomaliesScreen({ project }: ProjectTabProps) {
  const projectId = project.id;
  const catalogue = useSensorCatalogue(projectId);
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const [announcement, setAnnouncement] = useState('');
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  useEffect(() => {
    document.title = `Anomalies · ${project.name} · Faultline`;
  }, [project.name]);

  const list = usePages(
    (cursor) =>
      call(
        api().GET('/api/v1/projects/{projectId}/anomalies', {
          params: {
            path: { projectId },
            query: {
              limit: 50,
              cursor,
              siteId: filter.siteId || undefined,
              assetId: filter.assetId || undefined,
              metricId: filter.metricId || undefined,
              severity: filter.severities.length ? filter.severities.join(',') : undefined,
              status: filter.status || undefined,
              from: filter.from ? String(Date.parse(filter.from)) : undefined,
              to: filter.to ? String(Date.parse(filter.to)) : undefined,
            },
          },
        }),
      ),
    [projectId, JSON.stringify(filter)],
  );

  const live = useLiveFeed(
    { projectId },
    (m: LiveMessage) => {
      if (m.type !== 'anomaly' || !matches(m.anomaly, filter)) return;
      const known = list.items.some((a) => a.id === m.anomaly.id);
      list.setItems((items) => mergeAnomalies(items, [m.anomaly]));
      if (known) return;
      setFresh((s) => new Set(s).add(m.anomaly.id));
      setAnnouncement(`New ${m.anomaly.severity} ${m.anomaly.type} anomaly on ${names(m.anomaly.metricId).label}.`);
      // A metric created elsewhere since the catalogue was read: read it again to name it.
      if (!catalogue.data?.metrics.some((x) => x.id === m.anomaly.metricId)) void catalogue.reload();
    },
    // Back after a loss: the replay brought the anomalies; read the page again for acknowledgements made meanwhile.
    () => void list.first.reload(),
  );

  const c = catalogue.data;
  const names = metricNamer(c);
  const assets = c?.assets.filter((a) => !filter.siteId || a.siteId === filter.siteId) ?? [];
  const metrics =
    c?.metrics.filter(
      (m) => (!filter.siteId || m.siteId === filter.siteId) && (!filter.assetId || m.assetId === filter.assetId),
    ) ?? [];
  const set = (change: Partial<Filter>) => setFilter((f) => ({ ...f, ...change }));

  return (
    <>
      <div class="section-head">
        <h1>Anomalies</h1>
        <span class={`badge live-${live}`} role="status">
          {LIVE_STATUS_TEXT[live]}
        </span>
      </div>
      <p class="lead">Newest first. New anomalies appear here as the points that show them are scored.</p>
      <form class="filters" aria-label="Filter anomalies" onSubmit={(e) => e.preventDefault()}>
        <label class="field">
          <span>Site</span>
          <select
            value={filter.siteId}
            onChange={(e) => set({ siteId: e.currentTarget.value, assetId: '', metricId: '' })}
          >
            <option value="">All sites</option>
            {c?.sites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Asset</span>
          <select value={filter.assetId} onChange={(e) => set({ assetId: e.currentTarget.value, metricId: '' })}>
            <option value="">All assets</option>
            {assets.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Metric</span>
          <select value={filter.metricId} onChange={(e) => set({ metricId: e.currentTarget.value })}>
            <option value="">All metrics</option>
            {metrics.map((m) => (
              <option key={m.id} value={m.id}>
                {names(m.id).label}
              </option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>Severity</legend>
          {SEVERITIES.map((s) => (
            <label key={s} class="check">
              <input
                type="checkbox"
                checked={filter.severities.includes(s)}
                onChange={(e) =>
                  set({
                    severities: e.currentTarget.checked
                      ? SEVERITIES.filter((x) => x === s || filter.severities.includes(x))
                      : filter.severities.filter((x) => x !== s),
                  })
                }
              />
              {s}
            </label>
          ))}
        </fieldset>
        <label class="field">
          <span>Status</span>
          <select value={filter.status} onChange={(e) => set({ status: e.currentTarget.value as Filter['status'] })}>
            <option value="">Open and acknowledged</option>
            <option value="open">Open</option>
            <option value="acknowledged">Acknowledged</option>
          </select>
        </label>
        <label class="field">
          <span>Started after</span>
          <input type="datetime-local" value={filter.from} onChange={(e) => set({ from: e.currentTarget.value })} />
        </label>
        <label class="field">
          <span>Started before</span>
          <input type="datetime-local" value={filter.to} onChange={(e) => set({ to: e.currentTarget.value })} />
        </label>
        <button type="button" class="button secondary small" onClick={() => setFilter(NO_FILTER)}>
          Clear filters
        </button>
      </form>
      <p class="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      {catalogue.error ? (
        <ErrorNotice error={catalogue.error} title="The sites could not be loaded" onRetry={catalogue.reload} />
      ) : null}
      {list.first.loading && !list.first.data ? (
        <Skeleton rows={4} label="Loading anomalies" />
      ) : list.first.error ? (
        <ErrorNotice error={list.first.error} title="The anomalies could not be loaded" onRetry={list.first.reload} />
      ) : list.items.length === 0 ? (
        <EmptyState title="No anomalies">
          {JSON.stringify(filter) === JSON.stringify(NO_FILTER)
            ? 'None found yet: they appear here as soon as the points that show them are scored.'
            : 'None matches these filters.'}
        </EmptyState>
      ) : (
        <AnomalyTable
          projectId={projectId}
          anomalies={list.items}
          caption="Anomalies"
          names={names}
          fresh={fresh}
          // An acknowledged row stays until the list is read again, even under the "Open" filter: it would be
          // confusing to have it vanish under the pointer.
          onChanged={(a) => list.setItems((items) => items.map((x) => (x.id === a.id ? a : x)))}
        />
      )}
      {list.more.error ? <ErrorNotice error={list.more.error} title="More anomalies could not be loaded" /> : null}
      {list.cursor ? (
        <button type="button" class="button secondary" onClick={list.loadMore} disabled={list.more.busy}>
          {list.more.busy ? 'Loading…' : 'Show more anomalies'}
        </button>
      ) : null}
    </>
  );
}

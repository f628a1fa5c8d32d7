import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client.ts';
import type { LiveMessage } from '../../api/live-feed.ts';
import type { MetricAnomaly, MetricForecast, MetricPoint } from '../../api/sensors.ts';
import { mergeAnomalies, AnomalyTable } from '../../components/anomaly-table.tsx';
import { Facts } from '../../components/facts.tsx';
import { type ChartPoint, MetricChart } from '../../components/metric-chart.tsx';
import { EmptyState, ErrorNotice, Skeleton } from '../../components/status.tsx';
import { LIVE_STATUS_TEXT, useLiveFeed } from '../../hooks/use-live-feed.ts';
import { useResource } from '../../hooks/use-resource.ts';
import { Link } from '../../router.tsx';
import type { ProjectTabProps } from '../project.tsx';
import { describeLimits } from './site.tsx';

const HOUR = 3_600_000;
const RANGES = [
  { id: 'hour', label: 'Last hour', span: HOUR },
  { id: 'day', label: 'Last day', span: 24 * HOUR },
  { id: 'week', label: 'Last week', span: 7 * 24 * HOUR },
] as const;
type RangeId = (typeof RANGES)[number]['id'] | 'custom';
const FORECASTS = [
  { id: '', label: 'No forecast' },
  { id: '1h', label: 'Next hour' },
  { id: '6h', label: 'Next 6 hours' },
  { id: '24h', label: 'Next 24 hours' },
  { id: '7d', label: 'Next 7 days' },
] as const;
/** About one time bucket per pixel of the chart: more would not show, fewer would hide peaks. */
const MAX_POINTS = 800;
/** Narrowest zoom: a few expected intervals. */
const MIN_SPAN_MS = 60_000;
/** While the chart is downsampled, live points are not drawn one by one: the range is read again this often. */
const DOWNSAMPLED_REFRESH_MS = 10_000;

/** What the chart shows: a time window, following now (new points slide it) or fixed (zoomed, custom). */
interface View {
  from: number;
  to: number;
  follow: boolean;
}

const toLocalInput = (t: number) => {
  const d = new Date(t - new Date(t).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};
const chartPoint = (p: MetricPoint): ChartPoint => ({
  t: Date.parse(p.timestamp),
  value: p.value,
  min: p.min,
  max: p.max,
});

/** One metric: its chart (time range, zoom, anomalies, forecast, limits), live as points arrive, and its anomalies. */
export function MetricScreen({ project, metricId }: ProjectTabProps & { metricId: string }) {
  const projectId = project.id;
  const meta = useResource(async () => {
    const metric = await call(
      api().GET('/api/v1/projects/{projectId}/metrics/{metricId}', { params: { path: { projectId, metricId } } }),
    );
    const [asset, site] = await Promise.all([
      call(
        api().GET('/api/v1/projects/{projectId}/assets/{assetId}', {
          params: { path: { projectId, assetId: metric.assetId } },
        }),
      ),
      call(
        api().GET('/api/v1/projects/{projectId}/sites/{siteId}', {
          params: { path: { projectId, siteId: metric.siteId } },
        }),
      ),
    ]);
    return { metric, asset, site };
  }, [projectId, metricId]);

  const [range, setRange] = useState<RangeId>('day');
  const [view, setView] = useState<View>(() => ({ from: Date.now() - 24 * HOUR, to: Date.now(), follow: true }));
  const [history, setHistory] = useState<View[]>([]);
  const [custom, setCustom] = useState(() => ({
    from: toLocalInput(Date.now() - 24 * HOUR),
    to: toLocalInput(Date.now()),
  }));
  const [customError, setCustomError] = useState<string>();
  const [horizon, setHorizon] = useState<string>('');
  /** Bumped by every change that must read the range again (the fetch reads `view` as it is then). */
  const [query, setQuery] = useState(0);
  const [points, setPoints] = useState<{ items: ChartPoint[]; downsampled: boolean }>();
  const [anomalies, setAnomalies] = useState<MetricAnomaly[]>([]);
  /** The API has another page of anomalies for the range: the chart shows the newest, the Anomalies screen all. */
  const [moreAnomalies, setMoreAnomalies] = useState(false);
  const [loadState, setLoadState] = useState<{ loading: boolean; error?: unknown }>({ loading: true });
  const [forecast, setForecast] = useState<{ data?: MetricForecast; error?: unknown; loading?: boolean }>({});
  const [announcement, setAnnouncement] = useState('');
  const viewRef = useRef(view);
  viewRef.current = view;
  const refresh = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const go = (next: View, remember = true) => {
    if (remember) setHistory((h) => [...h.slice(-19), view]);
    setView(next);
    setQuery((q) => q + 1);
  };
  const chooseRange = (id: RangeId) => {
    setRange(id);
    setHistory([]);
    if (id === 'custom') return;
    const span = RANGES.find((r) => r.id === id)!.span;
    go({ from: Date.now() - span, to: Date.now(), follow: true }, false);
  };
  /** Reads the current range again; a window following now moves to now first. */
  const reload = () => {
    const v = viewRef.current;
    if (v.follow) setView({ from: Date.now() - (v.to - v.from), to: Date.now(), follow: true });
    setQuery((q) => q + 1);
  };

  useEffect(() => {
    let current = true;
    const { from, to } = viewRef.current;
    setLoadState((s) => ({ ...s, loading: true, error: undefined }));
    Promise.all([
      call(
        api().GET('/api/v1/projects/{projectId}/metrics/{metricId}/points', {
          params: {
            path: { projectId, metricId },
            query: { from: String(Math.round(from)), to: String(Math.round(to)), maxPoints: MAX_POINTS },
          },
        }),
      ),
      call(
        api().GET('/api/v1/projects/{projectId}/anomalies', {
          params: {
            path: { projectId },
            // Listed by start: one span earlier too, for an anomaly that began before the range and reaches into it.
            query: { metricId, from: String(Math.round(from - (to - from))), to: String(Math.round(to)), limit: 100 },
          },
        }),
      ),
    ]).then(
      ([p, a]) => {
        if (!current) return;
        setPoints({ items: p.points.map(chartPoint), downsampled: p.downsampled });
        setAnomalies(a.items);
        setMoreAnomalies(a.cursor !== null);
        setLoadState({ loading: false });
      },
      (error: unknown) => current && setLoadState({ loading: false, error }),
    );
    return () => {
      current = false;
    };
  }, [projectId, metricId, query]);

  useEffect(() => {
    if (!horizon) return setForecast({});
    let current = true;
    setForecast((f) => ({ ...f, loading: true, error: undefined }));
    call(
      api().GET('/api/v1/projects/{projectId}/metrics/{metricId}/forecast', {
        params: { path: { projectId, metricId }, query: { horizon } },
      }),
    ).then(
      (data) => current && setForecast({ data }),
      (error: unknown) => current && setForecast({ error }),
    );
    return () => {
      current = false;
    };
  }, [projectId, metricId, horizon, query]);

  useEffect(() => () => clearTimeout(refresh.current), []);

  const live = useLiveFeed(
    { projectId, metricId },
    (m: LiveMessage) => {
      if (m.type === 'anomaly') {
        setAnomalies((list) => mergeAnomalies(list, [m.anomaly]));
        setAnnouncement(`New ${m.anomaly.severity} ${m.anomaly.type} anomaly.`);
        return;
      }
      if (!points) return;
      const v = viewRef.current;
      if (points.downsampled) {
        // A bucket is a mean over many points; one more raw point drawn next to them would mislead.
        if (v.follow && !refresh.current)
          refresh.current = setTimeout(() => {
            refresh.current = undefined;
            reload();
          }, DOWNSAMPLED_REFRESH_MS);
        return;
      }
      const to = v.follow ? Math.max(Date.now(), m.time[m.time.length - 1]) : v.to;
      const from = v.follow ? to - (v.to - v.from) : v.from;
      setPoints((p) => {
        if (!p) return p;
        const last = p.items.length ? p.items[p.items.length - 1].t : -Infinity;
        const fresh = m.time
          .map((t, i) => ({ t, value: m.value[i] }))
          .filter((q) => q.t > last && q.t >= from && q.t <= to);
        if (!fresh.length && !v.follow) return p;
        return { ...p, items: [...p.items.filter((q) => q.t >= from), ...fresh] };
      });
      if (v.follow) setView({ from, to, follow: true });
    },
    reload,
  );

  if (!meta.data)
    return meta.error ? (
      <>
        <ErrorNotice error={meta.error} title="The metric could not be loaded" onRetry={meta.reload} />
        <p>
          <Link href={`/projects/${projectId}/sites`}>Back to the sites</Link>
        </p>
      </>
    ) : (
      <Skeleton rows={4} label="Loading the metric" />
    );
  const { metric, asset, site } = meta.data;
  const span = view.to - view.from;
  const zoomTo = (from: number, to: number) => {
    const mid = (from + to) / 2;
    const half = Math.max(MIN_SPAN_MS, to - from) / 2;
    go({ from: mid - half, to: mid + half, follow: false });
  };
  const zoomOut = () => {
    const mid = (view.from + view.to) / 2;
    const to = Math.min(Date.now(), mid + span);
    go({ from: to - 2 * span, to, follow: view.follow && to >= Date.now() - 1000 });
  };
  const gapMs = points?.downsampled ? (3 * span) / MAX_POINTS : 5 * metric.expectedIntervalSeconds * 1000;
  const forecastPoints =
    forecast.data && view.follow
      ? forecast.data.points.map((p) => ({ ...p, t: Date.parse(p.time) })).filter((p) => p.t > view.from)
      : undefined;
  const inView = anomalies.filter((a) => Date.parse(a.end) >= view.from && Date.parse(a.start) <= view.to);

  return (
    <>
      <p class="crumb">
        <Link href={`/projects/${projectId}/sites`}>Sites</Link> ›{' '}
        <Link href={`/projects/${projectId}/sites/${site.id}`}>{site.name}</Link> › {asset.name}
      </p>
      <div class="section-head">
        <h1>{metric.name}</h1>
        <span class={`badge live-${live}`} role="status">
          {LIVE_STATUS_TEXT[live]}
        </span>
      </div>
      <Facts
        compact
        items={[
          ['Unit', metric.unit || 'none'],
          ['Limits', describeLimits(metric)],
          ['Expected interval', `${metric.expectedIntervalSeconds} s`],
          ['Time zone', site.timeZone],
          [
            'Maintenance',
            <Link key="m" href={`/projects/${projectId}/maintenance/${asset.id}`}>
              {asset.name}
            </Link>,
          ],
        ]}
      />
      <p class="visually-hidden" aria-live="polite">
        {announcement}
      </p>

      <section aria-labelledby="chart-heading">
        <h2 id="chart-heading" class="visually-hidden">
          Chart
        </h2>
        <div class="chart-controls">
          <div role="group" aria-label="Time range" class="segmented">
            {RANGES.map((r) => (
              <button
                key={r.id}
                type="button"
                class={`button small ${range === r.id ? '' : 'secondary'}`}
                aria-pressed={range === r.id}
                onClick={() => chooseRange(r.id)}
              >
                {r.label}
              </button>
            ))}
            <button
              type="button"
              class={`button small ${range === 'custom' ? '' : 'secondary'}`}
              aria-pressed={range === 'custom'}
              onClick={() => chooseRange('custom')}
            >
              Custom
            </button>
          </div>
          <div role="group" aria-label="Zoom" class="segmented">
            <button
              type="button"
              class="button secondary small"
              onClick={() => zoomTo(view.from + span / 4, view.to - span / 4)}
            >
              Zoom in
            </button>
            <button type="button" class="button secondary small" onClick={zoomOut}>
              Zoom out
            </button>
            <button
              type="button"
              class="button secondary small"
              disabled={history.length === 0}
              onClick={() => {
                const previous = history[history.length - 1];
                setHistory((h) => h.slice(0, -1));
                if (previous) go(previous, false);
              }}
            >
              Back
            </button>
          </div>
          <label class="field inline">
            <span>Forecast</span>
            <select value={horizon} onChange={(e) => setHorizon(e.currentTarget.value)}>
              {FORECASTS.map((f) => (
                <option key={f.id} value={f.id}>
                  {f.label}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="button secondary small" onClick={reload}>
            Refresh
          </button>
        </div>
        {range === 'custom' ? (
          <form
            class="inline-form"
            aria-label="Custom time range"
            onSubmit={(e) => {
              e.preventDefault();
              const from = Date.parse(custom.from);
              const to = Date.parse(custom.to);
              if (!Number.isFinite(from) || !Number.isFinite(to)) return setCustomError('Give both times.');
              if (!(from < to)) return setCustomError('“From” must be before “To”.');
              setCustomError(undefined);
              go({ from, to, follow: false });
            }}
          >
            <label class="field">
              <span>From</span>
              <input
                type="datetime-local"
                value={custom.from}
                onInput={(e) => setCustom({ ...custom, from: e.currentTarget.value })}
                required
              />
            </label>
            <label class="field">
              <span>To</span>
              <input
                type="datetime-local"
                value={custom.to}
                onInput={(e) => setCustom({ ...custom, to: e.currentTarget.value })}
                required
              />
            </label>
            <button type="submit" class="button">
              Show
            </button>
            {customError ? (
              <p role="alert" class="notice notice-error">
                {customError}
              </p>
            ) : null}
          </form>
        ) : null}
        {loadState.error ? (
          <ErrorNotice error={loadState.error} title="The points could not be loaded" onRetry={reload} />
        ) : null}
        {forecast.error ? <ErrorNotice error={forecast.error} title="No forecast" /> : null}
        {!points ? (
          <Skeleton rows={5} label="Loading the points" />
        ) : points.items.length === 0 && !forecastPoints?.length ? (
          <EmptyState title="No points in this time range">
            Send points with POST /api/v1/projects/{projectId}/metrics/{metricId}/points, or choose a longer range.
          </EmptyState>
        ) : (
          <div aria-busy={loadState.loading}>
            <MetricChart
              name={metric.name}
              unit={metric.unit}
              from={view.from}
              to={view.to}
              points={points.items}
              gapMs={gapMs}
              anomalies={inView.map((a) => ({
                id: a.id,
                start: Date.parse(a.start),
                end: Date.parse(a.end),
                peak: Date.parse(a.peak),
                value: a.value,
                severity: a.severity,
                acknowledged: a.status === 'acknowledged',
                label: `${a.severity} ${a.type}: ${a.value} (expected ${a.expected.toPrecision(4)}) at ${new Date(
                  a.peak,
                ).toLocaleString()}`,
              }))}
              forecast={forecastPoints}
              limits={metric.limits}
              onZoom={zoomTo}
            />
            <p class="muted small">
              {points.downsampled
                ? `${points.items.length} time buckets of ${formatSpan(span / MAX_POINTS)}; zoom in for single points.`
                : `${points.items.length} points.`}
              {forecast.data && !view.follow ? ' The forecast shows when the range reaches now.' : ''}
            </p>
          </div>
        )}
        {forecast.data?.limitCrossings.length ? (
          <ul class="crossings">
            {forecast.data.limitCrossings.map((c) => (
              <li key={c.limit}>
                {c.direction === 'rising' ? 'Upper' : 'Lower'} limit {c.limit}
                {metric.unit ? ` ${metric.unit}` : ''}:{' '}
                {c.forecast_crossing
                  ? `expected to be crossed ${new Date(c.forecast_crossing).toLocaleString()}`
                  : 'not expected to be crossed'}
                {c.bound95_crossing ? `, earliest ${new Date(c.bound95_crossing).toLocaleString()}` : ''} (
                {Math.round(c.probability * 100)} % likely within the horizon, {c.confidence} confidence)
              </li>
            ))}
          </ul>
        ) : null}
      </section>

      <section aria-labelledby="metric-anomalies">
        <h2 id="metric-anomalies">Anomalies in this range</h2>
        {moreAnomalies ? (
          <p class="notice">
            There may be more anomalies in this range than the {anomalies.length} shown (the newest).{' '}
            <Link href={`/projects/${projectId}/anomalies`}>The Anomalies screen lists them all</Link>, or choose a
            shorter range.
          </p>
        ) : null}
        {inView.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <AnomalyTable
            projectId={projectId}
            anomalies={inView}
            caption={`Anomalies of ${metric.name}`}
            names={() => ({ label: `${asset.name} · ${metric.name}`, unit: metric.unit })}
            onChanged={(a) => setAnomalies((list) => list.map((x) => (x.id === a.id ? a : x)))}
          />
        )}
      </section>
    </>
  );
}

function formatSpan(ms: number): string {
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (ms < HOUR) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / HOUR).toFixed(1)} h`;
}

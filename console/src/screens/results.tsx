import { useMemo, useState } from 'preact/hooks';
import { api, call } from '../api/client.ts';
import { BandBadge } from '../components/band-badge.tsx';
import { Facts } from '../components/facts.tsx';
import { ScoreChart } from '../components/score-chart.tsx';
import { EmptyState, ErrorNotice, Skeleton } from '../components/status.tsx';
import { formatScore, formatTime, plural } from '../format.ts';
import { usePages } from '../hooks/use-pages.ts';
import { useResource } from '../hooks/use-resource.ts';
import { Link } from '../router.tsx';
import type { ProjectTabProps } from './project.tsx';

const PAGE = 24;
const PERIODS = { any: 'Any time', '1h': 'Last hour', '24h': 'Last 24 hours', '7d': 'Last 7 days' } as const;
const PERIOD_MS: Record<keyof typeof PERIODS, number> = { any: 0, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
const SORTS = { newest: 'Newest first', high: 'Highest score first', low: 'Lowest score first' } as const;

const REVIEW_STATES = {
  '': 'Any',
  unreviewed: 'Not reviewed',
  reviewed: 'Reviewed',
  normal: 'Reviewed normal',
  defect: 'Reviewed defect',
  unsure: 'Reviewed unsure',
} as const;

interface Filters {
  anomalous: boolean;
  review: keyof typeof REVIEW_STATES;
  period: keyof typeof PERIODS;
  band: string;
  batch: string;
  sort: keyof typeof SORTS;
}

/**
 * Stored results (tests here, API clients, the drop folder): the API filters by verdict and time and pages newest
 * first; band, batch and order apply to the results loaded so far.
 */
export function ResultsScreen({ project }: ProjectTabProps) {
  const [filters, setFilters] = useState<Filters>({
    anomalous: false,
    review: '',
    period: 'any',
    band: '',
    batch: '',
    sort: 'newest',
  });
  const since = useMemo(
    () => (filters.period === 'any' ? undefined : new Date(Date.now() - PERIOD_MS[filters.period]).toISOString()),
    [filters.period],
  );
  const query = {
    anomalous: filters.anomalous ? ('true' as const) : undefined,
    review: filters.review || undefined,
    since,
    limit: PAGE,
  };
  const list = usePages(
    (cursor) =>
      call(
        api().GET('/api/v1/projects/{projectId}/results', {
          params: { path: { projectId: project.id }, query: { ...query, cursor } },
        }),
      ),
    [project.id, filters.anomalous, filters.review, since],
  );
  const { first, items, cursor, more } = list;
  const batches = [...new Set(items.map((r) => r.batchId))].sort();
  const shown = items
    .filter(
      (r) =>
        (!filters.band || r.result.classification === filters.band) && (!filters.batch || r.batchId === filters.batch),
    )
    .sort((a, b) =>
      filters.sort === 'newest'
        ? b.createdAt.localeCompare(a.createdAt)
        : (filters.sort === 'high' ? -1 : 1) * (a.result.anomaly_score - b.result.anomaly_score),
    );
  const set = (change: Partial<Filters>) => setFilters((f) => ({ ...f, ...change }));

  return (
    <>
      <h1>Results</h1>
      <p class="lead">
        Every detection of this project: images tested here or through the API, and images dropped into{' '}
        <code>inbox/{project.id}/</code> (a sub-folder there is a batch).
      </p>
      <form class="filters card" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label class="check">
          <input
            type="checkbox"
            checked={filters.anomalous}
            onChange={(e) => set({ anomalous: e.currentTarget.checked })}
          />{' '}
          Anomalous only
        </label>
        <label class="field">
          <span>Review</span>
          <select value={filters.review} onChange={(e) => set({ review: e.currentTarget.value as Filters['review'] })}>
            {Object.entries(REVIEW_STATES).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Band</span>
          <select value={filters.band} onChange={(e) => set({ band: e.currentTarget.value })}>
            <option value="">All bands</option>
            {project.severityBands.map((b) => (
              <option key={b.name} value={b.name}>
                {b.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Time</span>
          <select value={filters.period} onChange={(e) => set({ period: e.currentTarget.value as Filters['period'] })}>
            {Object.entries(PERIODS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Batch</span>
          <select value={filters.batch} onChange={(e) => set({ batch: e.currentTarget.value })}>
            <option value="">All batches</option>
            {batches.map((b) => (
              <option key={b} value={b}>
                {b === 'api' ? 'Tested through the API' : b}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Sort</span>
          <select value={filters.sort} onChange={(e) => set({ sort: e.currentTarget.value as Filters['sort'] })}>
            {Object.entries(SORTS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
      </form>
      {filters.batch ? <BatchSummary projectId={project.id} batchId={filters.batch} /> : null}
      {first.error ? (
        <ErrorNotice error={first.error} title="The results could not be loaded" onRetry={first.reload} />
      ) : first.loading && !first.data ? (
        <Skeleton rows={4} label="Loading results" />
      ) : shown.length === 0 ? (
        <EmptyState
          title={
            items.length || filters.anomalous || filters.review || since
              ? 'No results match these filters'
              : 'No results yet'
          }
          action={
            project.activeModelVersion ? (
              <Link class="button" href={`/projects/${project.id}/test`}>
                Test an image
              </Link>
            ) : undefined
          }
        >
          {items.length || filters.anomalous || filters.review || since
            ? 'Change the filters, or load more results.'
            : 'Test an image, or put images into the drop folder; their results appear here.'}
        </EmptyState>
      ) : (
        <>
          <section class="card" aria-labelledby="chart-title">
            <h2 id="chart-title">Scores over time</h2>
            <ScoreChart
              points={shown.map((r) => ({
                time: r.createdAt,
                score: r.result.anomaly_score,
                band: r.result.classification,
                name: r.source.name,
              }))}
              threshold={project.threshold}
              bands={project.severityBands}
            />
          </section>
          <h2>
            Gallery{' '}
            <span class="muted small">
              ({plural(shown.length, 'result')} shown{cursor ? ', more to load' : ''})
            </span>
          </h2>
          <ul class="gallery" aria-label="Results">
            {shown.map((r) => (
              <li key={r.id} class="card result-card">
                <Link
                  href={`/projects/${project.id}/results/${r.id}`}
                  aria-label={`${r.source.name}: ${r.result.classification}, score ${formatScore(r.result.anomaly_score)}`}
                >
                  {r.visualizations || r.image_url ? (
                    <img src={r.visualizations?.overlay_url ?? r.image_url} alt="" loading="lazy" />
                  ) : (
                    <div class="image-missing">No image</div>
                  )}
                </Link>
                <div class="result-meta">
                  <span class="result-name" title={r.source.name}>
                    {r.source.name}
                  </span>
                  <span>
                    <BandBadge band={r.result.classification} bands={project.severityBands} />{' '}
                    {formatScore(r.result.anomaly_score)}
                  </span>
                  <span class="muted small">
                    {formatTime(r.createdAt)} · {r.batchId === 'api' ? 'API' : r.batchId}
                    {r.review ? ` · reviewed ${r.review.verdict}` : ''}
                  </span>
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
      {more.error ? <ErrorNotice error={more.error} title="More results could not be loaded" /> : null}
      {cursor ? (
        <button type="button" class="button secondary" onClick={list.loadMore} disabled={more.busy}>
          {more.busy ? 'Loading…' : 'Load more results'}
        </button>
      ) : null}
    </>
  );
}

function BatchSummary({ projectId, batchId }: { projectId: string; batchId: string }) {
  const summary = useResource(
    () =>
      call(api().GET('/api/v1/projects/{projectId}/batches/{batchId}', { params: { path: { projectId, batchId } } })),
    [projectId, batchId],
  );
  if (summary.error) return <ErrorNotice error={summary.error} title="The batch summary could not be loaded" />;
  if (!summary.data) return <Skeleton rows={1} label="Loading the batch summary" />;
  const s = summary.data;
  return (
    <section class="card" aria-label={`Batch ${batchId}`}>
      <Facts
        items={[
          ['Batch', batchId === 'api' ? 'Tested through the API' : batchId],
          ['Images', s.total_images],
          ['Anomalous', s.faulty_count],
          ['Normal', s.normal_count],
          ['Average score', formatScore(s.average_score)],
          s.last_at ? ['Last', formatTime(s.last_at)] : null,
        ]}
      />
    </section>
  );
}

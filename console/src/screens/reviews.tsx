import { useEffect, useState } from 'preact/hooks';
import { api, call, type Job } from '../api/client.ts';
import { ReviewMetricsChart } from '../components/review-metrics-chart.tsx';
import { EmptyState, ErrorNotice, ProgressBar, Skeleton } from '../components/status.tsx';
import { formatDuration, formatPercent, formatScore, formatTime } from '../format.ts';
import { useInterval } from '../hooks/use-interval.ts';
import { useResource } from '../hooks/use-resource.ts';
import { Link } from '../router.tsx';
import type { ProjectTabProps } from './project.tsx';

const randomKey = () =>
  [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

/** The two ways reviews make a new model version, as the API names them. */
const ACTIONS = {
  'update-bank': {
    path: '/api/v1/projects/{projectId}/update-bank',
    label: 'Learn the false alarms',
    help: 'Adds the patches of flagged parts reviewed Normal (drop-folder images, and tests when Settings keeps them) to the active model’s memory bank: a new version in seconds.',
  },
  recalibrate: {
    path: '/api/v1/projects/{projectId}/recalibrate',
    label: 'Recalibrate on confirmed defects',
    help: 'Sets the threshold where F1 is highest over the model’s calibration normals and the parts reviewed Defect.',
  },
} as const;
type Action = keyof typeof ACTIONS;

/** Reviews: precision and recall over time per model version, the reviews, and the two actions that learn from them. */
export function ReviewsScreen({ project, reloadProject }: ProjectTabProps) {
  const [period, setPeriod] = useState<'hour' | 'day' | 'week'>('day');
  const metrics = useResource(
    () =>
      call(
        api().GET('/api/v1/projects/{projectId}/review-metrics', {
          params: { path: { projectId: project.id }, query: { period } },
        }),
      ).then((m) => m.items),
    [project.id, period],
  );
  const reviews = useResource(
    () =>
      call(
        api().GET('/api/v1/projects/{projectId}/reviews', {
          params: { path: { projectId: project.id }, query: { limit: 50 } },
        }),
      ),
    [project.id],
  );
  const [job, setJob] = useState<Job>();
  const [start, setStart] = useState<{ busy?: Action; error?: unknown }>({});
  useEffect(() => {
    call(
      api().GET('/api/v1/projects/{projectId}/jobs', {
        params: { path: { projectId: project.id }, query: { limit: 5 } },
      }),
    ).then(
      (jobs) => {
        const running = jobs.items.find((j) => j.type in ACTIONS && (j.status === 'QUEUED' || j.status === 'RUNNING'));
        if (running) setJob(running);
      },
      () => undefined,
    );
  }, [project.id]);
  const running = job !== undefined && (job.status === 'QUEUED' || job.status === 'RUNNING');
  useInterval(
    async () => {
      if (!job) return;
      try {
        const next = await call(api().GET('/api/v1/jobs/{jobId}', { params: { path: { jobId: job.id } } }));
        if (next.status === 'SUCCEEDED') await reloadProject();
        setJob(next);
      } catch {
        // retried on the next tick
      }
    },
    running ? 1000 : null,
  );
  const run = async (action: Action) => {
    setStart({ busy: action });
    try {
      setJob(
        await call(
          api().POST(ACTIONS[action].path, {
            params: { path: { projectId: project.id } },
            headers: { 'idempotency-key': randomKey() },
          }),
        ),
      );
      setStart({});
    } catch (error) {
      setStart({ error });
    }
  };

  const rows = metrics.data ?? [];
  return (
    <>
      <h1>Reviews</h1>
      <p class="muted">
        Review results on their page (<Link href={`/projects/${project.id}/results`}>Results</Link>, then a result; keys{' '}
        <kbd>n</kbd> normal, <kbd>d</kbd> defect, <kbd>u</kbd> unsure). The model’s flags are measured against the
        reviews; the model learns from them below.
      </p>
      <section class="card" aria-labelledby="learn-title">
        <h2 id="learn-title">Learn from the reviews</h2>
        {(Object.keys(ACTIONS) as Action[]).map((action) => (
          <p key={action}>
            <button
              type="button"
              class="button"
              disabled={running || start.busy !== undefined || project.activeModelVersion === null}
              onClick={() => run(action)}
            >
              {start.busy === action ? 'Starting…' : ACTIONS[action].label}
            </button>{' '}
            <span class="muted small">{ACTIONS[action].help}</span>
          </p>
        ))}
        <p class="muted small">
          Each makes a new model version and activates it; the previous one stays in{' '}
          <Link href={`/projects/${project.id}/training`}>Training</Link>, one click to activate again.
        </p>
        {start.error ? <ErrorNotice error={start.error} title="The new version was not started" /> : null}
        {job ? <UpdateProgress job={job} reloadProject={reloadProject} /> : null}
      </section>
      <section aria-labelledby="metrics-title">
        <h2 id="metrics-title">Precision and recall</h2>
        <label>
          Per{' '}
          <select value={period} onChange={(e) => setPeriod((e.target as HTMLSelectElement).value as typeof period)}>
            <option value="hour">hour</option>
            <option value="day">day</option>
            <option value="week">week</option>
          </select>
        </label>
        {metrics.error ? (
          <ErrorNotice error={metrics.error} title="The measures could not be loaded" onRetry={metrics.reload} />
        ) : !metrics.data ? (
          <Skeleton rows={3} label="Loading the measures" />
        ) : rows.length === 0 ? (
          <EmptyState title="Nothing reviewed yet">
            Review results as Normal or Defect to see how often the model is right.
          </EmptyState>
        ) : (
          <>
            <ReviewMetricsChart rows={rows} />
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Precision and recall by period and model version</caption>
                <thead>
                  <tr>
                    <th scope="col">Period</th>
                    <th scope="col">Model</th>
                    <th scope="col">Reviewed</th>
                    <th scope="col">Flagged defects</th>
                    <th scope="col">False alarms</th>
                    <th scope="col">Missed defects</th>
                    <th scope="col">Precision</th>
                    <th scope="col">Recall</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={`${r.period}${r.modelVersion}`}>
                      <th scope="row">{r.period}</th>
                      <td>{r.modelVersion}</td>
                      <td>{r.reviewed}</td>
                      <td>{r.truePositives}</td>
                      <td>{r.falsePositives}</td>
                      <td>{r.falseNegatives}</td>
                      <td>{r.precision === null ? '–' : formatPercent(r.precision)}</td>
                      <td>{r.recall === null ? '–' : formatPercent(r.recall)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
      <section aria-labelledby="reviews-title">
        <h2 id="reviews-title">Latest reviews</h2>
        {reviews.error ? (
          <ErrorNotice error={reviews.error} title="The reviews could not be loaded" onRetry={reviews.reload} />
        ) : !reviews.data ? (
          <Skeleton rows={3} label="Loading reviews" />
        ) : reviews.data.items.length === 0 ? (
          <EmptyState title="No reviews yet">Open a result and choose Normal, Defect or Unsure.</EmptyState>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Reviewed results, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Result</th>
                  <th scope="col">Model said</th>
                  <th scope="col">Verdict</th>
                  <th scope="col">By</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {reviews.data.items.map((r) => (
                  <tr key={r.resultId}>
                    <th scope="row">
                      <Link href={`/projects/${project.id}/results/${r.resultId}`}>{r.source.name}</Link>
                    </th>
                    <td>
                      {r.flagged ? 'flagged' : 'passed'} ({formatScore(r.anomalyScore)}, {r.modelVersion})
                    </td>
                    <td>
                      {r.review.verdict}
                      {r.review.defectType ? ` (${r.review.defectType})` : ''}
                    </td>
                    <td>{r.review.reviewedBy}</td>
                    <td>{formatTime(r.review.reviewedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function UpdateProgress({ job, reloadProject }: { job: Job; reloadProject: () => Promise<void> }) {
  const [back, setBack] = useState<{ busy?: boolean; done?: boolean; error?: unknown }>({});
  if (job.status === 'FAILED')
    return <ErrorNotice error={new Error(job.error?.message ?? 'the job failed')} title="No new version was made" />;
  if (job.status === 'SUCCEEDED') {
    const out = job.output as { modelVersion?: number; baseVersion?: number; trainingMs?: number } | null;
    const activateBase = async () => {
      setBack({ busy: true });
      try {
        await call(
          api().POST('/api/v1/projects/{projectId}/models/{version}/activate', {
            params: { path: { projectId: job.projectId, version: out!.baseVersion! } },
          }),
        );
        setBack({ done: true });
        await reloadProject();
      } catch (error) {
        setBack({ error });
      }
    };
    return (
      <div class="notice notice-ok" role="status">
        <p>
          Model v{out?.modelVersion} (from v{out?.baseVersion}) is ready and active
          {out?.trainingMs !== undefined ? `, made in ${formatDuration(out.trainingMs)}` : ''}.
        </p>
        {out?.baseVersion ? (
          back.done ? (
            <p>Model v{out.baseVersion} is active again.</p>
          ) : (
            <button type="button" class="button secondary small" onClick={activateBase} disabled={back.busy}>
              Go back to v{out.baseVersion}
            </button>
          )
        ) : null}
        {back.error ? <ErrorNotice error={back.error} title="The previous version was not activated" /> : null}
      </div>
    );
  }
  const p = job.progress;
  return (
    <div class="job" aria-live="polite">
      <ProgressBar
        label="Progress of the new version"
        value={p?.done ?? 0}
        max={p?.total ?? 1}
        detail={
          p ? `${p.stage}: ${p.done} / ${p.total}` : job.status === 'QUEUED' ? 'Waiting for a worker' : 'Starting'
        }
      />
    </div>
  );
}

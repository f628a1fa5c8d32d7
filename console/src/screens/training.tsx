import { useEffect, useState } from 'preact/hooks';
import { api, call, type Job, type ModelVersion } from '../api/client.ts';
import { QualityBadge } from '../components/quality-badge.tsx';
import { Facts } from '../components/facts.tsx';
import { EmptyState, ErrorNotice, ProgressBar, Skeleton } from '../components/status.tsx';
import { formatDuration, formatTime, plural } from '../format.ts';
import { useInterval } from '../hooks/use-interval.ts';
import { useResource } from '../hooks/use-resource.ts';
import { Link } from '../router.tsx';
import type { ProjectTabProps } from './project.tsx';

/** The service's minimum (one image trains; the model then says it is uncalibrated). */
const MIN_IMAGES = 1;
/** Below this the model is `few_images` (the engine's FEW_IMAGES_BELOW). */
const FEW_IMAGES = 5;

/** A key for one click on "Start training", so that a retried request makes no second job (works without HTTPS too). */
const randomKey = () =>
  [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
/** How a version made from reviews was made, in words. */
const DERIVED = { 'update-bank': 'false alarms learnt', recalibrate: 'recalibrated' } as const;
const STAGES: Record<string, string> = {
  features: 'Reading features',
  coreset: 'Choosing the memory bank',
  calibration: 'Calibrating thresholds',
};

/** Training: start it, watch its progress live (the job polled every second), and the model versions it made. */
export function TrainingScreen({ project, reloadProject }: ProjectTabProps) {
  const models = useResource(
    () =>
      call(api().GET('/api/v1/projects/{projectId}/models', { params: { path: { projectId: project.id } } })).then(
        (m) => m.items,
      ),
    [project.id],
  );
  const [job, setJob] = useState<Job>();
  const [start, setStart] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const [activation, setActivation] = useState<{ version?: number; error?: unknown }>({});

  // A training started earlier (or elsewhere) and not finished is picked up again.
  useEffect(() => {
    call(
      api().GET('/api/v1/projects/{projectId}/jobs', {
        params: { path: { projectId: project.id }, query: { limit: 5 } },
      }),
    ).then(
      (jobs) => {
        const running = jobs.items.find((j) => j.type === 'train' && (j.status === 'QUEUED' || j.status === 'RUNNING'));
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
        // The new version is loaded before "finished" shows, so that both appear together.
        if (next.status === 'SUCCEEDED') await Promise.all([models.reload(), reloadProject()]);
        setJob(next);
      } catch {
        // a missed poll is retried on the next tick
      }
    },
    running ? 1000 : null,
  );

  const train = async () => {
    setStart({ busy: true });
    try {
      const created = await call(
        api().POST('/api/v1/projects/{projectId}/train', {
          params: { path: { projectId: project.id } },
          headers: { 'idempotency-key': randomKey() },
        }),
      );
      setJob(created);
      setStart({ busy: false });
    } catch (error) {
      setStart({ busy: false, error });
    }
  };

  const activate = async (version: number) => {
    setActivation({ version });
    try {
      await call(
        api().POST('/api/v1/projects/{projectId}/models/{version}/activate', {
          params: { path: { projectId: project.id, version } },
        }),
      );
      setActivation({});
      await Promise.all([models.reload(), reloadProject()]);
    } catch (error) {
      setActivation({ error });
    }
  };

  const tooFew = project.imageCount < MIN_IMAGES;
  const newest = models.data?.[0];
  return (
    <>
      <h1>Training</h1>
      <section class="card" aria-labelledby="train-title">
        <h2 id="train-title">Train a new model</h2>
        <p>
          Uses the project’s {plural(project.imageCount, 'normal image')}: all build the memory bank of normal patches,
          and each is scored against a bank of the others to set the thresholds. The new version becomes the active one.
        </p>
        {!tooFew && project.imageCount < FEW_IMAGES ? (
          <p class="notice">
            With fewer than {FEW_IMAGES} images the model is marked as weak (few images, or uncalibrated with one):
            expect false alarms until more normal images are added.
          </p>
        ) : null}
        {tooFew ? (
          <p class="notice">
            Training needs at least {MIN_IMAGES} normal image; this project has {project.imageCount}.{' '}
            <Link href={`/projects/${project.id}/images`}>Upload images</Link>.
          </p>
        ) : null}
        <button type="button" class="button" onClick={train} disabled={tooFew || start.busy || running}>
          {running ? 'Training…' : start.busy ? 'Starting…' : 'Start training'}
        </button>
        {start.error ? <ErrorNotice error={start.error} title="Training did not start" /> : null}
        {job ? <JobProgress job={job} /> : null}
      </section>
      <section aria-labelledby="models-title">
        <h2 id="models-title">Model versions</h2>
        {activation.error ? <ErrorNotice error={activation.error} title="The version was not activated" /> : null}
        {models.error ? (
          <ErrorNotice error={models.error} title="The models could not be loaded" onRetry={models.reload} />
        ) : !models.data ? (
          <Skeleton rows={2} label="Loading models" />
        ) : models.data.length === 0 ? (
          <EmptyState title="No model yet">
            {tooFew
              ? 'Upload normal images first, then start training.'
              : 'Start training above; it takes about a minute for 30 images.'}
          </EmptyState>
        ) : (
          <>
            {newest ? <ModelSummary model={newest} /> : null}
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">All model versions, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Trained</th>
                    <th scope="col">Images</th>
                    <th scope="col">Quality</th>
                    <th scope="col">Memory bank</th>
                    <th scope="col">Image threshold</th>
                    <th scope="col">Pixel threshold</th>
                    <th scope="col">Training time</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {models.data.map((m) => (
                    <tr key={m.version}>
                      <th scope="row">
                        {m.label}
                        {m.derivedFrom ? (
                          <span class="muted small">
                            {' '}
                            from v{m.derivedFrom.version}, {DERIVED[m.derivedFrom.by]} ({m.derivedFrom.images} reviewed)
                          </span>
                        ) : null}
                      </th>
                      <td>{formatTime(m.createdAt)}</td>
                      <td>
                        {m.trainImages} trained, {m.calibrationImages} calibrated
                      </td>
                      <td>{m.quality ? <QualityBadge quality={m.quality} /> : null}</td>
                      <td>{m.bankRows.toLocaleString()} patches</td>
                      <td>{m.thresholds.image.toFixed(3)}</td>
                      <td>{m.thresholds.pixel.toFixed(3)}</td>
                      <td>{formatDuration(m.trainingMs)}</td>
                      <td>
                        {m.active ? (
                          <span class="badge band-0">Active</span>
                        ) : (
                          <button
                            type="button"
                            class="button secondary small"
                            onClick={() => activate(m.version)}
                            disabled={activation.version === m.version}
                          >
                            Activate {m.label}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
    </>
  );
}

function JobProgress({ job }: { job: Job }) {
  if (job.status === 'FAILED')
    return <ErrorNotice error={new Error(job.error?.message ?? 'training failed')} title="Training failed" />;
  if (job.status === 'SUCCEEDED') {
    const version = (job.output as { modelVersion?: number } | null)?.modelVersion;
    return (
      <p class="notice notice-ok" role="status">
        Training finished: model v{version} is ready and active.{' '}
        <Link href={`/projects/${job.projectId}/test`}>Test an image</Link>.
      </p>
    );
  }
  const p = job.progress;
  const stage = p ? (STAGES[p.stage] ?? p.stage) : job.status === 'QUEUED' ? 'Waiting for a worker' : 'Starting';
  return (
    <div class="job" aria-live="polite">
      <ProgressBar
        label="Training progress"
        value={p?.done ?? 0}
        max={p?.total ?? 1}
        detail={p ? `${stage}: ${p.done} / ${p.total}` : stage}
      />
    </div>
  );
}

function ModelSummary({ model: m }: { model: ModelVersion }) {
  const metrics = Object.entries(m.metrics).filter(([, v]) => typeof v === 'number');
  return (
    <div class="card model-summary" aria-label={`Model ${m.label}`}>
      <h3>
        Model {m.label} {m.active ? <span class="badge band-0">Active</span> : null}
      </h3>
      <Facts
        items={[
          ['Backbone', m.backbone],
          ['Image threshold', m.thresholds.image.toFixed(3)],
          ['Pixel threshold', m.thresholds.pixel.toFixed(3)],
          ['Threshold method', m.thresholds.method],
          ['Trained on', `${m.trainImages} images; threshold from ${m.calibrationImages} unseen normal scores`],
          ...(m.quality
            ? [['Quality', <QualityBadge quality={m.quality} withReason />] as [string, preact.ComponentChild]]
            : []),
          ...metrics.map(([k, v]): [string, string] => [k, (v as number).toFixed(3)]),
        ]}
      />
      <p class="muted small">
        Thresholds are raw distances set on normal images the bank had not seen (each training image against a bank of
        the others); scores are normalised so that the high end of those normal images reads 0.3 (the top of Normal) and
        the image threshold 0.5 (the start of Overloway: over the limit, a defect likely).
      </p>
      {m.scoreHistogram ? <ScoreHistogram histogram={m.scoreHistogram} /> : null}
    </div>
  );
}

/** Where the calibration images fell on the normalised scale, one bar per bin, with the threshold at 0.5. */
function ScoreHistogram({ histogram }: { histogram: NonNullable<ModelVersion['scoreHistogram']> }) {
  const bins = histogram.normals.length;
  const top = Math.max(1, ...histogram.normals, ...histogram.defects);
  const width = 300;
  const height = 80;
  const bar = width / bins;
  const bars = (counts: number[], cls: string, offset: number) =>
    counts.map((c, i) =>
      c > 0 ? (
        <rect
          key={`${cls}${i}`}
          class={cls}
          x={i * bar + offset}
          y={height - (c / top) * height}
          width={bar / 2 - 1}
          height={(c / top) * height}
        >
          <title>{`${c} ${cls === 'normals' ? 'normal' : 'defective'} image(s) scoring ${(i / bins).toFixed(2)}–${((i + 1) / bins).toFixed(2)}`}</title>
        </rect>
      ) : null,
    );
  return (
    <figure class="score-histogram">
      <svg viewBox={`0 0 ${width} ${height + 12}`} role="img" aria-label="Calibration scores on the normalised scale">
        {bars(histogram.normals, 'normals', 0)}
        {bars(histogram.defects, 'defects', bar / 2)}
        <line class="threshold" x1={width / 2} x2={width / 2} y1={0} y2={height} />
        <text x={0} y={height + 11}>
          0
        </text>
        <text x={width / 2 - 8} y={height + 11}>
          0.5
        </text>
        <text x={width - 6} y={height + 11}>
          1
        </text>
      </svg>
      <figcaption class="muted small">
        Calibration images by normalised score: normal (green)
        {histogram.defects.some((c) => c > 0) ? ', defective (red)' : ''}; the line is the calibrated threshold.
      </figcaption>
    </figure>
  );
}

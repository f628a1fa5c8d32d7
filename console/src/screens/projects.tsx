import { useEffect, useState } from 'preact/hooks';
import { api, call, type Project, type Result } from '../api/client.ts';
import { BandBadge } from '../components/band-badge.tsx';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { Facts } from '../components/facts.tsx';
import { EmptyState, ErrorNotice, Skeleton } from '../components/status.tsx';
import { formatScore, formatTime, plural } from '../format.ts';
import { usePages } from '../hooks/use-pages.ts';
import { useResource } from '../hooks/use-resource.ts';
import { Link, navigate } from '../router.tsx';

/** All projects with their state, a form for a new one, and deletion. */
export function ProjectsScreen() {
  const list = usePages(
    (cursor) => call(api().GET('/api/v1/projects', { params: { query: { limit: 24, cursor } } })),
    [],
  );
  const [deleting, setDeleting] = useState<Project>();
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => {
    document.title = 'Projects · Faultline';
  }, []);
  return (
    <div class="page">
      <h1>Projects</h1>
      <p class="lead">A project is one kind of product to inspect: its normal images, its models and its results.</p>
      <NewProjectForm />
      <section aria-labelledby="all-projects">
        <h2 id="all-projects">All projects</h2>
        <p class="visually-hidden" aria-live="polite">
          {announcement}
        </p>
        {list.first.loading && !list.first.data ? (
          <Skeleton rows={3} label="Loading projects" />
        ) : list.first.error ? (
          <ErrorNotice error={list.first.error} title="The projects could not be loaded" onRetry={list.first.reload} />
        ) : list.items.length === 0 ? (
          <EmptyState title="No projects yet">
            Create one above: give it a name, then upload photos of good products and train a model.
          </EmptyState>
        ) : (
          <ul class="project-list">
            {list.items.map((p) => (
              <ProjectCard key={p.id} project={p} onDelete={() => setDeleting(p)} />
            ))}
          </ul>
        )}
        {list.more.error ? <ErrorNotice error={list.more.error} title="More projects could not be loaded" /> : null}
        {list.cursor ? (
          <button type="button" class="button secondary" onClick={list.loadMore} disabled={list.more.busy}>
            {list.more.busy ? 'Loading…' : 'Show more projects'}
          </button>
        ) : null}
      </section>
      {deleting ? (
        <ConfirmDelete
          project={deleting}
          onClose={() => setDeleting(undefined)}
          onDeleted={() => {
            list.setItems((p) => p.filter((x) => x.id !== deleting.id));
            setAnnouncement(`Project ${deleting.name} deleted.`);
            setDeleting(undefined);
          }}
        />
      ) : null}
    </div>
  );
}

function NewProjectForm() {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [kind, setKind] = useState<Project['kind']>('anomaly');
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const submit = async (e: Event) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      const project = await call(api().POST('/api/v1/projects', { body: { name, description, kind } }));
      navigate(`/projects/${project.id}/${firstTab(kind)}`);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return (
    <section class="card" aria-labelledby="new-project">
      <h2 id="new-project">New project</h2>
      <form class="inline-form" onSubmit={submit}>
        <label class="field">
          <span>Name</span>
          <input
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            required
            maxLength={100}
            placeholder="e.g. Cookies, line 1"
          />
        </label>
        <label class="field">
          <span>Kind</span>
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value as typeof kind)}>
            <option value="anomaly">Anomaly detection</option>
            <option value="classification">Image classification (ONNX)</option>
            <option value="object-detection">Object detection (YOLO ONNX)</option>
            <option value="sensors">Sensors (time series)</option>
          </select>
        </label>
        <label class="field grow">
          <span>Description (optional)</span>
          <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} maxLength={2000} />
        </label>
        <button type="submit" class="button" disabled={state.busy || !name.trim()}>
          {state.busy ? 'Creating…' : 'Create project'}
        </button>
      </form>
      {state.error ? <ErrorNotice error={state.error} title="The project was not created" /> : null}
    </section>
  );
}

/** The screen a project opens on: its images, its models, or its sites. */
const firstTab = (kind: Project['kind']) => (kind === 'anomaly' ? 'images' : kind === 'sensors' ? 'sites' : 'models');

function ProjectCard({ project: p, onDelete }: { project: Project; onDelete: () => void }) {
  const last = useResource(
    () =>
      // A sensors project has no image results: its anomalies are on its own screen.
      p.kind === 'sensors'
        ? Promise.resolve({ items: [] as Result[] })
        : call(
            api().GET('/api/v1/projects/{projectId}/results', {
              params: { path: { projectId: p.id }, query: { limit: 1 } },
            }),
          ),
    [p.id],
  );
  const result: Result | undefined = last.data?.items[0];
  return (
    <li class="card project-card">
      <h3>
        <Link href={`/projects/${p.id}/${firstTab(p.kind)}`}>{p.name}</Link>
      </h3>
      {p.description ? <p class="muted">{p.description}</p> : null}
      <Facts
        compact
        items={[
          p.kind === 'sensors' && ['Kind', 'Sensors (time series)'],
          p.kind !== 'sensors' && ['Images', plural(p.imageCount, 'image')],
          p.kind !== 'sensors' && ['Active model', p.activeModelVersion ? `v${p.activeModelVersion}` : 'None yet'],
          p.kind !== 'sensors' && [
            'Last result',
            last.loading && !last.data ? (
              <span class="muted">…</span>
            ) : result ? (
              <>
                <BandBadge band={result.result.classification} bands={p.severityBands} />{' '}
                {formatScore(result.result.anomaly_score)}
                <span class="muted"> · {formatTime(result.createdAt)}</span>
              </>
            ) : (
              <span class="muted">None yet</span>
            ),
          ],
        ]}
      />
      <div class="actions">
        <Link class="button secondary small" href={`/projects/${p.id}/${firstTab(p.kind)}`}>
          Open
        </Link>
        <button type="button" class="button danger-outline small" onClick={onDelete} aria-label={`Delete ${p.name}`}>
          Delete
        </button>
      </div>
    </li>
  );
}

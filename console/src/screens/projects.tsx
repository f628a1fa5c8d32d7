import { useEffect, useState } from 'preact/hooks';
import { api, call, type Project, type Result } from '../api/client.ts';
import { BandBadge } from '../components/band-badge.tsx';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { EmptyState, ErrorNotice, Skeleton } from '../components/status.tsx';
import { formatScore, formatTime, plural } from '../format.ts';
import { useResource } from '../hooks/use-resource.ts';
import { Link, navigate } from '../router.tsx';

/** All projects with their state, a form for a new one, and deletion. */
export function ProjectsScreen() {
  const [pages, setPages] = useState<Project[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useResource(() => call(api().GET('/api/v1/projects', { params: { query: { limit: 24 } } })), []);
  const [more, setMore] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const [deleting, setDeleting] = useState<Project>();
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => {
    document.title = 'Projects · Faultline';
  }, []);
  useEffect(() => {
    if (first.data) {
      setPages(first.data.items);
      setCursor(first.data.cursor);
    }
  }, [first.data]);

  const loadMore = async () => {
    setMore({ busy: true });
    try {
      const page = await call(api().GET('/api/v1/projects', { params: { query: { limit: 24, cursor: cursor ?? undefined } } }));
      setPages((p) => [...p, ...page.items]);
      setCursor(page.cursor);
      setMore({ busy: false });
    } catch (error) {
      setMore({ busy: false, error });
    }
  };

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
        {first.loading && !first.data ? (
          <Skeleton rows={3} label="Loading projects" />
        ) : first.error ? (
          <ErrorNotice error={first.error} title="The projects could not be loaded" onRetry={first.reload} />
        ) : pages.length === 0 ? (
          <EmptyState title="No projects yet">Create one above: give it a name, then upload photos of good products and train a model.</EmptyState>
        ) : (
          <ul class="project-list">
            {pages.map((p) => (
              <ProjectCard key={p.id} project={p} onDelete={() => setDeleting(p)} />
            ))}
          </ul>
        )}
        {more.error ? <ErrorNotice error={more.error} title="More projects could not be loaded" /> : null}
        {cursor ? (
          <button type="button" class="button secondary" onClick={loadMore} disabled={more.busy}>
            {more.busy ? 'Loading…' : 'Show more projects'}
          </button>
        ) : null}
      </section>
      {deleting ? (
        <ConfirmDelete
          project={deleting}
          onClose={() => setDeleting(undefined)}
          onDeleted={() => {
            setPages((p) => p.filter((x) => x.id !== deleting.id));
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
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const submit = async (e: Event) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      const project = await call(api().POST('/api/v1/projects', { body: { name, description } }));
      navigate(`/projects/${project.id}/images`);
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
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} placeholder="e.g. Cookies, line 1" />
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

function ProjectCard({ project: p, onDelete }: { project: Project; onDelete: () => void }) {
  const last = useResource(() => call(api().GET('/api/v1/projects/{projectId}/results', { params: { path: { projectId: p.id }, query: { limit: 1 } } })), [p.id]);
  const result: Result | undefined = last.data?.items[0];
  return (
    <li class="card project-card">
      <h3>
        <Link href={`/projects/${p.id}/images`}>{p.name}</Link>
      </h3>
      {p.description ? <p class="muted">{p.description}</p> : null}
      <dl class="facts compact">
        <div>
          <dt>Images</dt>
          <dd>{plural(p.imageCount, 'image')}</dd>
        </div>
        <div>
          <dt>Active model</dt>
          <dd>{p.activeModelVersion ? `v${p.activeModelVersion}` : 'None yet'}</dd>
        </div>
        <div>
          <dt>Last result</dt>
          <dd>
            {last.loading && !last.data ? (
              <span class="muted">…</span>
            ) : result ? (
              <>
                <BandBadge band={result.result.classification} bands={p.severityBands} /> {formatScore(result.result.anomaly_score)}
                <span class="muted"> · {formatTime(result.createdAt)}</span>
              </>
            ) : (
              <span class="muted">None yet</span>
            )}
          </dd>
        </div>
      </dl>
      <div class="actions">
        <Link class="button secondary small" href={`/projects/${p.id}/images`}>
          Open
        </Link>
        <button type="button" class="button danger-outline small" onClick={onDelete} aria-label={`Delete ${p.name}`}>
          Delete
        </button>
      </div>
    </li>
  );
}

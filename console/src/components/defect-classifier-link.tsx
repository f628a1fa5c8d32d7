import { useState } from 'preact/hooks';
import { api, call, type Project } from '../api/client.ts';
import { useResource } from '../hooks/use-resource.ts';
import { ErrorNotice } from './status.tsx';

/** Pages of projects read to offer the classification projects (100 each): enough for any one person's list. */
const MAX_PAGES = 10;

async function classificationProjects(): Promise<Project[]> {
  const found: Project[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await call(api().GET('/api/v1/projects', { params: { query: { limit: 100, cursor } } }));
    found.push(...body.items.filter((p) => p.kind === 'classification'));
    if (!body.cursor) break;
    cursor = body.cursor;
  }
  return found;
}

/**
 * An anomaly project's link to a classification project that names each anomalous region's defect type (its first
 * head on the region's crop); none unlinks.
 */
export function DefectClassifierLink({ project, setProject }: { project: Project; setProject: (p: Project) => void }) {
  const classifiers = useResource(classificationProjects, []);
  const [chosen, setChosen] = useState(project.defectClassifier ?? '');
  const [state, setState] = useState<{ busy: boolean; error?: unknown; saved?: boolean }>({ busy: false });
  const save = async (e: Event) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      const linked = await call(
        api().POST('/api/v1/projects/{projectId}/defect-classifier', {
          params: { path: { projectId: project.id } },
          body: { classifierProjectId: chosen || null },
        }),
      );
      setProject({ ...project, defectClassifier: linked.defectClassifier });
      setState({ busy: false, saved: true });
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return (
    <form class="card settings" onSubmit={save} aria-labelledby="defect-types-title">
      <h2 id="defect-types-title">Defect types</h2>
      <p class="muted small">
        A classification project’s active model names each anomalous region’s defect type (its first head, on the
        region’s crop). A linked project without a model makes detections fail rather than guess.
      </p>
      {classifiers.error ? <ErrorNotice error={classifiers.error} title="Projects not loaded" /> : null}
      <label class="field">
        <span>Defect classifier</span>
        <select
          value={chosen}
          onChange={(e) => setChosen(e.currentTarget.value)}
          disabled={classifiers.loading && !classifiers.data}
        >
          <option value="">None</option>
          {(classifiers.data ?? []).map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
          {chosen && classifiers.data && !classifiers.data.some((p) => p.id === chosen) ? (
            <option value={chosen}>{chosen}</option>
          ) : null}
        </select>
      </label>
      <div aria-live="polite">
        {state.error ? (
          <ErrorNotice error={state.error} title="Not linked" />
        ) : state.saved ? (
          <p class="notice notice-ok">{chosen ? 'Defect classifier linked.' : 'Defect classifier unlinked.'}</p>
        ) : null}
      </div>
      <button type="submit" class="button" disabled={state.busy}>
        {state.busy ? 'Saving…' : 'Save defect classifier'}
      </button>
    </form>
  );
}

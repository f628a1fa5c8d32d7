import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client.ts';
import { ACCEPT_ATTRIBUTE } from '../../api/uploads.ts';
import { DropZone } from '../../components/drop-zone.tsx';
import { EmptyState, ErrorNotice, Loading } from '../../components/status.tsx';
import { usePages } from '../../hooks/use-pages.ts';
import type { ProjectTabProps } from '../project.tsx';
import { type Classification, HeadResults } from './classification-parts.tsx';

interface Tested {
  id: number;
  name: string;
  preview: string;
  result?: Classification;
  error?: unknown;
}

/** Test images on a classifier: each dropped image classified in turn, every head shown. */
export function ClassifyScreen({ project }: ProjectTabProps) {
  const [tested, setTested] = useState<Tested[]>([]);
  const counter = useRef(0);
  const previews = useRef<string[]>([]);
  useEffect(() => () => previews.current.forEach((url) => URL.revokeObjectURL(url)), []);
  if (!project.activeModelVersion)
    return (
      <>
        <h1>Test images</h1>
        <EmptyState title="No model yet">Upload or train a classifier on the Models page first.</EmptyState>
      </>
    );
  const classify = async (files: File[]) => {
    const items = files.map((file) => {
      const preview = URL.createObjectURL(file);
      previews.current.push(preview);
      return { id: ++counter.current, name: file.name, preview };
    });
    setTested((t) => [...items.slice().reverse(), ...t]);
    for (const [i, file] of files.entries()) {
      const form = new FormData();
      form.append('file', file, file.name);
      let change: Partial<Tested>;
      try {
        change = {
          result: await call(
            api().POST('/api/v1/projects/{projectId}/classify', {
              params: { path: { projectId: project.id } },
              body: form as never,
            }),
          ),
        };
      } catch (error) {
        change = { error };
      }
      setTested((t) => t.map((x) => (x.id === items[i].id ? { ...x, ...change } : x)));
    }
  };
  return (
    <>
      <h1>Test images</h1>
      <p class="lead">
        Drop images: each is classified with model v{project.activeModelVersion} and kept in the results.
      </p>
      <DropZone
        label="Images to classify"
        hint="Drop images to classify here"
        accept={ACCEPT_ATTRIBUTE}
        onFiles={classify}
      />
      <div class="stack">
        {tested.map((t) =>
          t.result ? (
            <article key={t.id} class="card" aria-label={`Classification of ${t.name}`}>
              <h2>{t.name}</h2>
              <img src={t.preview} alt={t.name} class="thumbnail" />
              <p class="muted small">
                {t.result.model_version} · {t.result.model_type} · {(t.result.processing_time * 1000).toFixed(0)} ms
              </p>
              <HeadResults heads={t.result.heads} />
            </article>
          ) : t.error ? (
            <ErrorNotice key={t.id} error={t.error} title={`${t.name} could not be classified`} />
          ) : (
            <div key={t.id} class="card">
              <Loading label={`Classifying ${t.name}…`} />
            </div>
          ),
        )}
      </div>
    </>
  );
}

/** Everything the classifier answered (tests, API clients, the drop folder), newest first. */
export function ClassificationsScreen({ project }: ProjectTabProps) {
  const pages = usePages(
    (cursor) =>
      call(
        api().GET('/api/v1/projects/{projectId}/classifications', {
          params: { path: { projectId: project.id }, query: { limit: 20, cursor } },
        }),
      ),
    [project.id],
  );
  return (
    <>
      <h1>Results</h1>
      {pages.first.error ? (
        <ErrorNotice error={pages.first.error} title="The results could not be loaded" onRetry={pages.first.reload} />
      ) : null}
      {pages.items.length === 0 && pages.first.data ? (
        <EmptyState title="No results yet">
          Classify images on the Test page, through the API or the drop folder.
        </EmptyState>
      ) : null}
      <table>
        <caption class="visually-hidden">Classifications, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Image</th>
            <th scope="col">Answer per head</th>
            <th scope="col">Model</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {pages.items.map((r) => (
            <tr key={r.id}>
              <td>
                {r.source.name} <span class="muted small">({r.source.kind === 'inbox' ? 'drop folder' : 'API'})</span>
              </td>
              <td>
                {Object.entries(r.result.heads)
                  .map(
                    ([name, h]) =>
                      `${name}: ${h.activation === 'sigmoid' ? h.labels.join(', ') || '—' : `${h.label} (${(h.confidence * 100).toFixed(0)} %)`}`,
                  )
                  .join(' · ')}
              </td>
              <td>{r.result.model_version}</td>
              <td>{new Date(r.createdAt).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!pages.first.data && !pages.first.error ? <Loading label="Loading results…" /> : null}
      {pages.more.error ? <ErrorNotice error={pages.more.error} title="More results could not be loaded" /> : null}
      {pages.cursor ? (
        <button type="button" class="button secondary" onClick={pages.loadMore} disabled={pages.more.busy}>
          More
        </button>
      ) : null}
    </>
  );
}

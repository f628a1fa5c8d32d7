import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../../api/client.ts';
import { ACCEPT_ATTRIBUTE } from '../../api/uploads.ts';
import { DropZone } from '../../components/drop-zone.tsx';
import { EmptyState, ErrorNotice, Loading } from '../../components/status.tsx';
import { usePages } from '../../hooks/use-pages.ts';
import type { ProjectTabProps } from '../project.tsx';

type ObjectDetection = Schemas['ObjectDetection'];

interface Tested {
  id: number;
  name: string;
  result?: ObjectDetection;
  error?: unknown;
}

/** The objects found, one row each: label, confidence and box in the image's pixels. */
function ObjectTable({ objects }: { objects: Schemas['DetectedObject'][] }) {
  if (objects.length === 0) return <p>No objects found.</p>;
  return (
    <table>
      <caption class="visually-hidden">Objects found</caption>
      <thead>
        <tr>
          <th scope="col">Label</th>
          <th scope="col">Confidence</th>
          <th scope="col">Box (x, y, width × height, px)</th>
        </tr>
      </thead>
      <tbody>
        {objects.map((o, i) => (
          <tr key={i}>
            <td>{o.label}</td>
            <td>{(o.confidence * 100).toFixed(0)} %</td>
            <td>
              {o.x}, {o.y}, {o.width} × {o.height}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Test images on a detector: each dropped image detected in turn, shown with its boxes drawn. */
export function DetectObjectsScreen({ project }: ProjectTabProps) {
  const [tested, setTested] = useState<Tested[]>([]);
  const counter = useRef(0);
  useEffect(() => setTested([]), [project.id]);
  if (!project.activeModelVersion)
    return (
      <>
        <h1>Test images</h1>
        <EmptyState title="No model yet">Upload a YOLO ONNX model on the Models page first.</EmptyState>
      </>
    );
  const detect = async (files: File[]) => {
    const items = files.map((file) => ({ id: ++counter.current, name: file.name }));
    setTested((t) => [...items.slice().reverse(), ...t]);
    for (const [i, file] of files.entries()) {
      const form = new FormData();
      form.append('file', file, file.name);
      let change: Partial<Tested>;
      try {
        change = {
          result: await call(
            api().POST('/api/v1/projects/{projectId}/detect-objects', {
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
      <p class="lead">Drop images: each is run through model v{project.activeModelVersion} and kept in the results.</p>
      <DropZone
        label="Images to detect objects in"
        hint="Drop images here"
        accept={ACCEPT_ATTRIBUTE}
        onFiles={detect}
      />
      <div class="stack">
        {tested.map((t) =>
          t.result ? (
            <article key={t.id} class="card" aria-label={`Objects in ${t.name}`}>
              <h2>
                {t.name}: {t.result.object_count} {t.result.object_count === 1 ? 'object' : 'objects'}
              </h2>
              <img src={t.result.rendering_url} alt={`${t.name} with the boxes drawn`} class="thumbnail" />
              <p class="muted small">
                {t.result.model_version} · {t.result.model_type} · {(t.result.processing_time * 1000).toFixed(0)} ms ·{' '}
                {t.result.image.width} × {t.result.image.height} px
              </p>
              <ObjectTable objects={t.result.objects} />
            </article>
          ) : t.error ? (
            <ErrorNotice key={t.id} error={t.error} title={`No objects could be detected in ${t.name}`} />
          ) : (
            <div key={t.id} class="card">
              <Loading label={`Detecting objects in ${t.name}…`} />
            </div>
          ),
        )}
      </div>
    </>
  );
}

/** Everything the detector answered (tests, API clients, the drop folder), newest first. */
export function ObjectDetectionsScreen({ project }: ProjectTabProps) {
  const pages = usePages(
    (cursor) =>
      call(
        api().GET('/api/v1/projects/{projectId}/object-detections', {
          params: { path: { projectId: project.id }, query: { limit: 20, cursor } },
        }),
      ),
    [project.id],
  );
  const count = (objects: Schemas['DetectedObject'][]) => {
    const byLabel = new Map<string, number>();
    for (const o of objects) byLabel.set(o.label, (byLabel.get(o.label) ?? 0) + 1);
    return [...byLabel].map(([label, n]) => `${n} ${label}`).join(', ') || 'none';
  };
  return (
    <>
      <h1>Results</h1>
      {pages.first.error ? (
        <ErrorNotice error={pages.first.error} title="The results could not be loaded" onRetry={pages.first.reload} />
      ) : null}
      {pages.items.length === 0 && pages.first.data ? (
        <EmptyState title="No results yet">
          Detect objects on the Test page, through the API or the drop folder.
        </EmptyState>
      ) : null}
      <table>
        <caption class="visually-hidden">Object detections, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Image</th>
            <th scope="col">Objects</th>
            <th scope="col">Boxes drawn</th>
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
              <td>{count(r.result.objects)}</td>
              <td>
                <a href={r.rendering_url} target="_blank" rel="noreferrer">
                  PNG
                </a>
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

import { useState } from 'preact/hooks';
import { api, call } from '../../api/client.ts';
import { EmptyState, ErrorNotice, Skeleton } from '../../components/status.tsx';
import { useResource } from '../../hooks/use-resource.ts';
import type { ProjectTabProps } from '../project.tsx';
import { ConfusionMatrix } from './classification-parts.tsx';

/** A classification project's model versions: upload an ONNX file with its spec, activate one, see its evaluation. */
export function ClassifierModelsScreen({ project, reloadProject }: ProjectTabProps) {
  const models = useResource(
    () =>
      call(api().GET('/api/v1/projects/{projectId}/uploaded-models', { params: { path: { projectId: project.id } } })),
    [project.id],
  );
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const upload = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const body = new FormData(form);
    setBusy(true);
    setError(undefined);
    try {
      await call(
        api().POST('/api/v1/projects/{projectId}/models/upload', {
          params: { path: { projectId: project.id } },
          body: body as never,
        }),
      );
      form.reset();
      await Promise.all([models.reload(), reloadProject()]);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const activate = async (version: number) => {
    setError(undefined);
    try {
      await call(
        api().POST('/api/v1/projects/{projectId}/uploaded-models/{version}/activate', {
          params: { path: { projectId: project.id, version } },
        }),
      );
      await Promise.all([models.reload(), reloadProject()]);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <>
      <h1>Models</h1>
      <p class="lead">
        Upload an image classifier exported to ONNX with its spec (input, heads). It is run once against the spec before
        it is kept; what does not match is refused with the reason. Or train one from images in class folders (POST
        /train, or <code>faultline classify train</code>).
      </p>
      <form class="card" onSubmit={upload} aria-label="Upload a model">
        <label>
          ONNX model <input type="file" name="model" accept=".onnx" required />
        </label>
        <label>
          Spec (JSON) <input type="file" name="spec" accept=".json,application/json" required />
        </label>
        <button type="submit" class="button" disabled={busy}>
          {busy ? 'Checking…' : 'Upload and check'}
        </button>
      </form>
      {error ? <ErrorNotice error={error} title="The model was not accepted" /> : null}
      {models.error ? (
        <ErrorNotice error={models.error} title="The models could not be loaded" onRetry={models.reload} />
      ) : !models.data ? (
        <Skeleton rows={3} label="Loading the models" />
      ) : models.data.items.length === 0 ? (
        <EmptyState title="No model yet">Upload an ONNX model with its spec, or train one.</EmptyState>
      ) : (
        <div class="stack">
          {models.data.items
            .flatMap((m) => (m.kind === 'classification' ? [m] : []))
            .map((m) => (
              <section key={m.version} class="card" aria-label={`Model ${m.label}`}>
                <div class="section-head">
                  <h2>
                    {m.label} {m.active ? <span class="badge">active</span> : null}
                  </h2>
                  {!m.active ? (
                    <button type="button" class="button secondary small" onClick={() => activate(m.version)}>
                      Activate {m.label}
                    </button>
                  ) : null}
                </div>
                <p class="muted small">
                  {m.source === 'training' ? 'trained here' : 'uploaded'} · ONNX opset {m.file.opset} ·{' '}
                  {(m.file.bytes / 1e6).toFixed(1)} MB · {new Date(m.createdAt).toLocaleString()}
                </p>
                <ul>
                  {m.spec.heads.map((h) => (
                    <li key={h.name}>
                      <strong>{h.name}</strong> ({h.activation}
                      {h.activation === 'sigmoid' ? `, threshold ${h.threshold ?? 0.5}` : ''}): {h.classes.join(', ')}
                    </li>
                  ))}
                </ul>
                {m.evaluation ? <ConfusionMatrix evaluation={m.evaluation} /> : null}
              </section>
            ))}
        </div>
      )}
    </>
  );
}

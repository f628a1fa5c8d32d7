import { useState } from 'preact/hooks';
import { api, call } from '../../api/client.ts';
import { EmptyState, ErrorNotice, Skeleton } from '../../components/status.tsx';
import { useResource } from '../../hooks/use-resource.ts';
import type { ProjectTabProps } from '../project.tsx';

/** An object-detection project's model versions: upload a YOLO ONNX export with its spec, activate one. */
export function DetectorModelsScreen({ project, reloadProject }: ProjectTabProps) {
  const models = useResource(
    () =>
      call(api().GET('/api/v1/projects/{projectId}/uploaded-models', { params: { path: { projectId: project.id } } })),
    [project.id],
  );
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const act = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      await Promise.all([models.reload(), reloadProject()]);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const upload = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const body = new FormData(form);
    return act(async () => {
      await call(
        api().POST('/api/v1/projects/{projectId}/models/upload', {
          params: { path: { projectId: project.id } },
          body: body as never,
        }),
      );
      form.reset();
    });
  };
  const activate = (version: number) =>
    act(() =>
      call(
        api().POST('/api/v1/projects/{projectId}/uploaded-models/{version}/activate', {
          params: { path: { projectId: project.id, version } },
        }),
      ),
    );

  return (
    <>
      <h1>Models</h1>
      <p class="lead">
        Upload a YOLO detector exported to ONNX (v5 or v8 output layout) with its spec (input size, class names,
        thresholds). It is run once against the spec before it is kept; what does not match is refused with the shapes.
        Training YOLO needs a deep-learning trainer this service does not have: train elsewhere and upload the export.
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
        <EmptyState title="No model yet">Upload a YOLO ONNX export with its spec.</EmptyState>
      ) : (
        <div class="stack">
          {models.data.items
            .flatMap((m) => (m.kind === 'object-detection' ? [m] : []))
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
                  ONNX opset {m.file.opset} · {(m.file.bytes / 1e6).toFixed(1)} MB · input {m.spec.input.width} ×{' '}
                  {m.spec.input.height} · {new Date(m.createdAt).toLocaleString()}
                </p>
                <p>
                  Classes: {m.spec.classes.join(', ')} · confidence ≥ {m.spec.thresholds?.confidence ?? 0.25} · IoU{' '}
                  {m.spec.thresholds?.iou ?? 0.45}
                </p>
              </section>
            ))}
        </div>
      )}
    </>
  );
}

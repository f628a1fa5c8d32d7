import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, type Detection } from '../api/client.ts';
import { ACCEPT_ATTRIBUTE } from '../api/uploads.ts';
import { DetectionView } from '../components/detection-view.tsx';
import { DropZone } from '../components/drop-zone.tsx';
import { EmptyState, ErrorNotice, Loading } from '../components/status.tsx';
import { Link } from '../router.tsx';
import type { ProjectTabProps } from './project.tsx';

interface Tested {
  id: number;
  name: string;
  /** The local file, shown under its heatmap. */
  preview: string;
  detection?: Detection;
  error?: unknown;
}

/** Test images: each dropped image is sent to POST /detect in turn and its result shown as it arrives. */
export function TestScreen({ project }: ProjectTabProps) {
  const [tested, setTested] = useState<Tested[]>([]);
  const counter = useRef(0);
  const previews = useRef<string[]>([]);
  useEffect(() => () => previews.current.forEach((url) => URL.revokeObjectURL(url)), []);

  if (!project.activeModelVersion) {
    return (
      <>
        <h1>Test images</h1>
        <EmptyState
          title="No model yet"
          action={
            <Link class="button" href={`/projects/${project.id}/training`}>
              Go to training
            </Link>
          }
        >
          Train a model on normal images first; then drop images here to see what it finds.
        </EmptyState>
      </>
    );
  }

  const test = async (files: File[]) => {
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
          detection: await call(
            api().POST('/api/v1/projects/{projectId}/detect', {
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

  const pending = tested.filter((t) => !t.detection && !t.error).length;
  return (
    <>
      <h1>Test images</h1>
      <p class="lead">
        Drop one or more images: each is checked with model v{project.activeModelVersion} and kept in the results. The
        score is normalised so that 0.5 is the calibrated threshold.
      </p>
      <DropZone label="Images to test" hint="Drop images to test here" accept={ACCEPT_ATTRIBUTE} onFiles={test} />
      <p class="visually-hidden" aria-live="polite">
        {pending ? `Testing ${pending} images…` : tested.length ? `${tested.length} tested.` : ''}
      </p>
      {tested.length ? (
        <div class="section-head">
          <h2>Results of this session</h2>
          <button type="button" class="button secondary small" onClick={() => setTested([])} disabled={pending > 0}>
            Clear
          </button>
        </div>
      ) : null}
      <div class="stack">
        {tested.map((t) =>
          t.detection ? (
            <DetectionView
              key={t.id}
              name={t.name}
              detection={t.detection}
              visualizations={t.detection.visualizations}
              bands={project.severityBands}
              imageUrl={t.preview}
            />
          ) : t.error ? (
            <ErrorNotice key={t.id} error={t.error} title={`${t.name} could not be tested`} />
          ) : (
            <div key={t.id} class="card">
              <Loading label={`Testing ${t.name}…`} />
            </div>
          ),
        )}
      </div>
    </>
  );
}

import { useState } from 'preact/hooks';
import { api, call, type DatasetImage } from '../api/client.ts';
import { ACCEPT_ATTRIBUTE, confirmRegistered, type UploadItem, uploadImages } from '../api/uploads.ts';
import { DropZone } from '../components/drop-zone.tsx';
import { EmptyState, ErrorNotice, Skeleton } from '../components/status.tsx';
import { displayName, formatBytes, formatPercent, plural } from '../format.ts';
import { useResource } from '../hooks/use-resource.ts';
import { Link } from '../router.tsx';
import type { ProjectTabProps } from './project.tsx';

const PAGE = 48;

/** The normal images: upload by drag and drop (presigned POSTs, progress per file), the count and thumbnails. */
export function DatasetScreen({ project, reloadProject }: ProjectTabProps) {
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  const [busy, setBusy] = useState(false);
  const [limit, setLimit] = useState(PAGE);
  const images = useResource(() => listImages(project.id, limit), [project.id, limit]);

  const upload = async (files: File[]) => {
    let next = uploads.reduce((max, u) => Math.max(max, u.id), 0);
    const items: UploadItem[] = files.map((f) => ({
      id: ++next,
      name: f.name,
      size: f.size,
      status: 'waiting',
      progress: 0,
    }));
    setUploads((u) => [...items, ...u]);
    const update = () => setUploads((u) => [...u]);
    setBusy(true);
    try {
      const stored = await uploadImages(project.id, files, items, update);
      await confirmRegistered(project.id, stored, update);
    } finally {
      setBusy(false);
      await Promise.all([reloadProject(), images.reload()]);
    }
  };
  const done = uploads.filter((u) => u.status === 'done').length;
  const rejected = uploads.filter((u) => u.status === 'rejected');

  return (
    <>
      <h1>Normal images</h1>
      <p class="lead">
        Photos of good products only: the model learns what normal looks like. One is enough to start (the model says it
        is uncalibrated), 5 give a usable model, 20 or more a steadier one.
      </p>
      <DropZone
        label="Normal images to upload"
        hint="Drop images of good products here (JPEG, PNG, WebP, TIFF, BMP, GIF, AVIF; up to 20 MB each)"
        accept={ACCEPT_ATTRIBUTE}
        onFiles={upload}
        disabled={busy}
      />
      {uploads.length ? (
        <section class="card" aria-labelledby="uploads-title">
          <div class="section-head">
            <h2 id="uploads-title">Uploads</h2>
            <p aria-live="polite" class="muted">
              {busy ? 'Uploading… ' : ''}
              {plural(done, 'image')} added{rejected.length ? `, ${rejected.length} rejected` : ''}
            </p>
            {!busy ? (
              <button type="button" class="button secondary small" onClick={() => setUploads([])}>
                Clear list
              </button>
            ) : null}
          </div>
          {rejected.length ? (
            <div class="notice notice-error" role="alert">
              <strong>{plural(rejected.length, 'file was', 'files were')} not added</strong>
              <ul>
                {rejected.map((u) => (
                  <li key={u.id}>
                    {u.name}: {u.message}
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
          <ul class="upload-list">
            {uploads.map((u) => (
              <li key={u.id} class={`upload ${u.status}`}>
                <span class="upload-name">{u.name}</span>
                <span class="muted">{formatBytes(u.size)}</span>
                {u.status === 'uploading' ? (
                  <progress aria-label={`Uploading ${u.name}`} value={u.progress} max={1} />
                ) : (
                  <span class="upload-status">{STATUS_TEXT[u.status]}</span>
                )}
                {u.status === 'uploading' ? <span class="muted">{formatPercent(u.progress)}</span> : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <section aria-labelledby="images-title">
        <div class="section-head">
          <h2 id="images-title">In this project</h2>
          <p class="count" aria-live="polite">
            {plural(project.imageCount, 'image')}
          </p>
          {project.imageCount >= 5 ? (
            <Link class="button small" href={`/projects/${project.id}/training`}>
              Go to training
            </Link>
          ) : null}
        </div>
        {images.error ? (
          <ErrorNotice error={images.error} title="The images could not be listed" onRetry={images.reload} />
        ) : !images.data ? (
          <Skeleton rows={2} label="Loading images" />
        ) : images.data.length === 0 ? (
          <EmptyState title="No images yet">
            Drop photos of good products above, or put them into the bucket under datasets/{project.id}/.
          </EmptyState>
        ) : (
          <>
            <ul class="thumbs" aria-label="Normal images">
              {images.data.map((image) => (
                <li key={image.key}>
                  <img
                    src={image.url}
                    alt={displayName(image.name)}
                    loading="lazy"
                    width={image.width}
                    height={image.height}
                  />
                  <span class="thumb-name">{displayName(image.name)}</span>
                </li>
              ))}
            </ul>
            {images.data.length < project.imageCount ? (
              <button type="button" class="button secondary" onClick={() => setLimit((l) => l + PAGE)}>
                Show more images
              </button>
            ) : null}
          </>
        )}
      </section>
    </>
  );
}

const STATUS_TEXT: Record<UploadItem['status'], string> = {
  waiting: 'Waiting',
  uploading: 'Uploading',
  checking: 'Checking…',
  done: 'Added',
  rejected: 'Rejected',
};

/** The first `limit` images (the API pages by 100 at most). */
async function listImages(projectId: string, limit: number): Promise<DatasetImage[]> {
  const images: DatasetImage[] = [];
  let cursor: string | undefined;
  do {
    const page = await call(
      api().GET('/api/v1/projects/{projectId}/images', {
        params: { path: { projectId }, query: { limit: Math.min(100, limit - images.length), cursor } },
      }),
    );
    images.push(...page.items);
    cursor = page.cursor ?? undefined;
  } while (cursor && images.length < limit);
  return images;
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, type Project } from '../api/client.ts';
import { ErrorNotice } from './status.tsx';

/**
 * Deleting a project removes its images, models and results: the person types the project's name to confirm, as
 * the API requires (?confirm=NAME). A modal dialog: focus stays inside, Escape closes it.
 */
export function ConfirmDelete({
  project,
  onClose,
  onDeleted,
}: {
  project: Project;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const remove = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await call(
        api().DELETE('/api/v1/projects/{projectId}', {
          params: { path: { projectId: project.id }, query: { confirm: typed } },
        }),
      );
      onDeleted();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="delete-title" onClose={onClose}>
      <form onSubmit={remove}>
        <h2 id="delete-title">Delete “{project.name}”?</h2>
        <p>
          Its {project.imageCount} images, its models, jobs and results are deleted for good. Type the project’s name to
          confirm.
        </p>
        <label class="field">
          <span>Project name</span>
          <input value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autoComplete="off" spellcheck={false} />
        </label>
        {error ? <ErrorNotice error={error} title="Not deleted" /> : null}
        <div class="actions">
          <button type="button" class="button secondary" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="submit" class="button danger" disabled={typed !== project.name || busy}>
            {busy ? 'Deleting…' : 'Delete project'}
          </button>
        </div>
      </form>
    </dialog>
  );
}

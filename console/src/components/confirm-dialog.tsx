import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorNotice } from './status.tsx';

/** A modal question before something is deleted for good: focus stays inside, Escape cancels, the API's refusal shows. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  action,
  onClose,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  /** Runs on confirmation; the dialog closes when it resolves and shows the error when it throws. */
  action: () => Promise<void>;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const confirm = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await action();
      dialog.current?.close();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="confirm-title" onClose={onClose}>
      <form onSubmit={confirm}>
        <h2 id="confirm-title">{title}</h2>
        <p>{children}</p>
        {error ? <ErrorNotice error={error} title="Not done" /> : null}
        <div class="actions">
          <button type="button" class="button secondary" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="submit" class="button danger" disabled={busy}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

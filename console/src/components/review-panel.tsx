import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, call, type Result, type Review } from '../api/client.ts';
import { ApiError } from '../api/errors.ts';
import { formatTime } from '../format.ts';
import { ErrorNotice } from './status.tsx';

type Verdict = Review['verdict'];

/** The verdicts, their keys and labels, in the order shown. */
export const VERDICTS: { verdict: Verdict; key: string; label: string; hint: string }[] = [
  { verdict: 'normal', key: 'n', label: 'Normal', hint: 'a false alarm if it was flagged' },
  { verdict: 'defect', key: 'd', label: 'Defect', hint: 'a real defect' },
  { verdict: 'unsure', key: 'u', label: 'Unsure', hint: 'cannot tell' },
];

/** Whether a key press is meant for a field rather than for the page's shortcuts. */
const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

/**
 * A person's verdict on one result: Normal, Defect (with an optional type) or Unsure, with a note; n, d and u on the
 * page choose one. A review replaces the last one; made meanwhile by someone else, it is refused and shown again.
 */
export function ReviewPanel({
  result,
  onReviewed,
  onStale,
}: {
  result: Result;
  onReviewed: (review: Review) => void;
  /** Someone else reviewed it meanwhile: load it again to show their review. */
  onStale: () => void;
}) {
  const current = result.review;
  const [defectType, setDefectType] = useState(current?.defectType ?? '');
  const [note, setNote] = useState(current?.note ?? '');
  const [state, setState] = useState<{ busy?: Verdict; error?: unknown }>({});

  // Set at once, not on the next render, so that a key pressed twice quickly saves one review.
  const saving = useRef(false);

  const submit = async (verdict: Verdict) => {
    if (saving.current) return;
    saving.current = true;
    setState({ busy: verdict });
    try {
      const review = await call(
        api().POST('/api/v1/projects/{projectId}/results/{resultId}/review', {
          params: { path: { projectId: result.projectId, resultId: result.id } },
          body: {
            verdict,
            ...(verdict === 'defect' && defectType.trim() ? { defectType: defectType.trim() } : {}),
            ...(note.trim() ? { note: note.trim() } : {}),
            expectedRevision: current?.revision ?? 0,
          },
        }),
      );
      setState({});
      onReviewed(review);
    } catch (error) {
      setState({ error });
      if (error instanceof ApiError && error.status === 409) onStale();
    } finally {
      saving.current = false;
    }
  };
  const latestSubmit = useRef(submit);
  latestSubmit.current = submit;

  // A layout effect, attached before the panel is painted: with a plain effect a key pressed as soon as the panel
  // shows could come before the listener and be lost.
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      const choice = VERDICTS.find((v) => v.key === e.key.toLowerCase());
      if (choice && !saving.current) {
        e.preventDefault();
        void latestSubmit.current(choice.verdict);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <section class="card review" aria-labelledby="review-title">
      <h2 id="review-title">Review</h2>
      <p class="muted small">
        {current
          ? `Reviewed ${current.verdict}${current.defectType ? ` (${current.defectType})` : ''} by ${current.reviewedBy}, ${formatTime(current.reviewedAt)}${current.note ? `: “${current.note}”` : ''}. A new review replaces it.`
          : `Not reviewed yet. The model ${result.result.is_anomalous ? 'flagged' : 'passed'} this part: is it right?`}
      </p>
      <div class="review-fields">
        <label>
          Defect type (optional)
          <input
            value={defectType}
            maxLength={100}
            onInput={(e) => setDefectType((e.target as HTMLInputElement).value)}
            placeholder="e.g. crack"
          />
        </label>
        <label>
          Note (optional)
          <input value={note} maxLength={2000} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <div class="review-actions" role="group" aria-label="Verdict">
        {VERDICTS.map((v) => (
          <button
            key={v.verdict}
            type="button"
            class={`button${current?.verdict === v.verdict ? '' : ' secondary'}`}
            aria-pressed={current?.verdict === v.verdict}
            aria-keyshortcuts={v.key}
            title={`${v.hint} (key ${v.key})`}
            disabled={state.busy !== undefined}
            onClick={() => submit(v.verdict)}
          >
            {state.busy === v.verdict ? 'Saving…' : v.label} <kbd>{v.key}</kbd>
          </button>
        ))}
      </div>
      {state.error ? <ErrorNotice error={state.error} title="The review was not saved" /> : null}
    </section>
  );
}

import type { ComponentChildren } from 'preact';
import { errorMessage } from '../api/errors.ts';

/** A spinner with a text that screen readers announce. */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

/** Grey placeholders in the shape of what is loading. */
export function Skeleton({ rows = 3, label = 'Loading…' }: { rows?: number; label?: string }) {
  return (
    <div class="skeleton" role="status" aria-label={label}>
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} class="skeleton-row" />
      ))}
    </div>
  );
}

/** An error as the API worded it, announced at once, with a retry when one makes sense. */
export function ErrorNotice({
  error,
  title = 'Something went wrong',
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  const code = (error as { code?: string }).code;
  return (
    <div class="notice notice-error" role="alert">
      <strong>{title}</strong>
      <p>
        {errorMessage(error)}
        {code && code !== 'ERROR' ? <span class="muted"> ({code})</span> : null}
      </p>
      {onRetry ? (
        <button type="button" class="button secondary" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** What is missing and what to do next. */
export function EmptyState({
  title,
  children,
  action,
}: {
  title: string;
  children?: ComponentChildren;
  action?: ComponentChildren;
}) {
  return (
    <div class="empty">
      <h3>{title}</h3>
      {children ? <p>{children}</p> : null}
      {action}
    </div>
  );
}

/** A progress bar with its label and a polite live announcement of the numbers. */
export function ProgressBar({
  label,
  value,
  max,
  detail,
}: {
  label: string;
  value: number;
  max: number;
  detail?: string;
}) {
  return (
    <div class="progress">
      <div class="progress-head">
        <span>{label}</span>
        <span aria-live="polite">{detail ?? `${value} / ${max}`}</span>
      </div>
      <progress aria-label={label} value={value} max={max || 1} />
    </div>
  );
}

import type { ComponentChildren } from 'preact';

/** Labelled values in a row (a description list); entries that are null are left out. */
export function Facts({
  items,
  compact,
}: {
  items: ([string, ComponentChildren] | null | false)[];
  compact?: boolean;
}) {
  return (
    <dl class={compact ? 'facts compact' : 'facts'}>
      {items
        .filter((item): item is [string, ComponentChildren] => Boolean(item))
        .map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
    </dl>
  );
}

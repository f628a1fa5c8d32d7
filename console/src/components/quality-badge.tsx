import type { ModelVersion } from '../api/client.ts';

type Quality = NonNullable<ModelVersion['quality']>;

const LABELS: Record<Quality['verdict'], string> = { ok: 'OK', few_images: 'Few images', uncalibrated: 'Uncalibrated' };
const LEVELS: Record<Quality['verdict'], number> = { ok: 0, few_images: 1, uncalibrated: 2 };

/** A model's quality verdict on its colour; the reason is in the tooltip and, with `withReason`, beside it. */
export function QualityBadge({
  quality,
  withReason = false,
}: {
  quality: Pick<Quality, 'verdict' | 'reason'>;
  withReason?: boolean;
}) {
  const badge = (
    <span class={`badge band-${LEVELS[quality.verdict]}`} title={quality.reason}>
      {LABELS[quality.verdict]}
    </span>
  );
  if (!withReason) return badge;
  return (
    <span class="quality">
      {badge} <span class="muted small">{quality.reason}</span>
    </span>
  );
}

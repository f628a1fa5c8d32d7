import type { ReviewMetricsRow } from '../api/client.ts';
import { formatPercent } from '../format.ts';

const W = 720;
const H = 220;
const PAD = { left: 44, right: 12, top: 12, bottom: 28 };
/** Line colours by model version, in order of first appearance (colour-blind-safe Okabe-Ito). */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'];

/**
 * Precision (solid) and recall (dashed) of the flags against the reviews, per period, one colour per model version.
 * Plain SVG; the same numbers are in the table beside it.
 */
export function ReviewMetricsChart({ rows }: { rows: ReviewMetricsRow[] }) {
  const periods = [...new Set(rows.map((r) => r.period))].sort();
  const versions = [...new Set(rows.map((r) => r.modelVersion))];
  const x = (period: string) =>
    PAD.left +
    (periods.length === 1 ? 0.5 : periods.indexOf(period) / (periods.length - 1)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - v) * (H - PAD.top - PAD.bottom);
  const line = (version: string, metric: 'precision' | 'recall') =>
    rows
      .filter((r) => r.modelVersion === version && r[metric] !== null)
      .map((r) => `${x(r.period)},${y(r[metric]!)}`)
      .join(' ');
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Precision and recall from reviews over ${periods.length} periods for ${versions.join(', ')}`}
      >
        {[0, 0.25, 0.5, 0.75, 1].map((v) => (
          <g key={v} class="tick">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end">
              {formatPercent(v)}
            </text>
          </g>
        ))}
        {versions.map((version, i) => {
          const colour = COLOURS[i % COLOURS.length];
          return (
            <g key={version}>
              <polyline points={line(version, 'precision')} fill="none" stroke={colour} stroke-width="2" />
              <polyline
                points={line(version, 'recall')}
                fill="none"
                stroke={colour}
                stroke-width="2"
                stroke-dasharray="6 4"
              />
              {rows
                .filter((r) => r.modelVersion === version)
                .flatMap((r) =>
                  (['precision', 'recall'] as const)
                    .filter((m) => r[m] !== null)
                    .map((m) => (
                      <circle key={`${r.period}${m}`} cx={x(r.period)} cy={y(r[m]!)} r="4" fill={colour}>
                        <title>{`${version}, ${r.period}: ${m} ${formatPercent(r[m]!)} (${r.reviewed} reviewed)`}</title>
                      </circle>
                    )),
                )}
            </g>
          );
        })}
        <text class="axis" x={PAD.left} y={H - 8}>
          {periods[0]}
        </text>
        <text class="axis" x={W - PAD.right} y={H - 8} text-anchor="end">
          {periods.at(-1)}
        </text>
      </svg>
      <figcaption class="muted">
        Solid: precision (flagged parts that were defects); dashed: recall (defects that were flagged).{' '}
        {versions.map((v, i) => (
          <span key={v} style={{ color: COLOURS[i % COLOURS.length] }}>
            ■ {v}{' '}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

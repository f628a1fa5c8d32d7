import type { SeverityBand } from '../api/client.ts';
import { formatScore, formatTime } from '../format.ts';
import { BAND_COLOURS, bandLevel } from './band-badge.tsx';

export interface ScorePoint {
  time: string;
  score: number;
  band: string;
  name: string;
}

const W = 720;
const H = 220;
const PAD = { left: 40, right: 12, top: 12, bottom: 28 };

/** Scores over time as dots on the severity bands, with the decision threshold dashed. Plain SVG, no library. */
export function ScoreChart({
  points,
  threshold,
  bands,
}: {
  points: ScorePoint[];
  threshold: number;
  bands: SeverityBand[];
}) {
  const times = points.map((p) => Date.parse(p.time));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const span = t1 - t0 || 1;
  const x = (t: number) => PAD.left + (points.length === 1 ? 0.5 : (t - t0) / span) * (W - PAD.left - PAD.right);
  const y = (score: number) => PAD.top + (1 - Math.min(1, Math.max(0, score))) * (H - PAD.top - PAD.bottom);
  const anomalous = points.filter((p) => p.score >= threshold).length;
  let lower = 0;
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Scores over time: ${points.length} results, ${anomalous} at or above the threshold ${threshold}`}
      >
        {bands.map((band) => {
          const upper = band.below ?? 1;
          const rect = (
            <rect
              key={band.name}
              x={PAD.left}
              y={y(upper)}
              width={W - PAD.left - PAD.right}
              height={y(lower) - y(upper)}
              fill={BAND_COLOURS[bandLevel(band.name, bands)]}
              opacity="0.07"
            />
          );
          lower = upper;
          return rect;
        })}
        {[0, 0.25, 0.5, 0.75, 1].map((v) => (
          <g key={v} class="tick">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end">
              {v}
            </text>
          </g>
        ))}
        <line class="threshold" x1={PAD.left} x2={W - PAD.right} y1={y(threshold)} y2={y(threshold)} />
        {points.map((p, i) => (
          <circle key={i} cx={x(times[i])} cy={y(p.score)} r="5" fill={BAND_COLOURS[bandLevel(p.band, bands)]}>
            <title>{`${p.name}: ${formatScore(p.score)} (${p.band}), ${formatTime(p.time)}`}</title>
          </circle>
        ))}
        <text class="axis" x={PAD.left} y={H - 8}>
          {formatTime(new Date(t0).toISOString())}
        </text>
        <text class="axis" x={W - PAD.right} y={H - 8} text-anchor="end">
          {formatTime(new Date(t1).toISOString())}
        </text>
      </svg>
      <figcaption class="muted">
        Each dot is a result; the dashed line is the decision threshold; the shaded bands are the severity bands.
      </figcaption>
    </figure>
  );
}

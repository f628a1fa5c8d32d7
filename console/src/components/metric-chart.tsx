import { useRef, useState } from 'preact/hooks';
import type { Severity } from '../api/sensors.ts';
import { formatTime } from '../format.ts';
import { SEVERITY_COLOURS } from './severity-badge.tsx';

/**
 * One metric over time: the line (with the min–max shade of downsampled buckets), anomalies marked in their
 * severity's colour, the forecast with its 80 % and 95 % bands, and the limit lines. Drag across it to zoom.
 *
 * Plain SVG in the style of score-chart.tsx rather than a chart library (uPlot was the candidate): the API already
 * downsamples to at most a few thousand points, which SVG draws at once, and SVG keeps every anomaly mark an element
 * with its own text (read by screen readers, found by the browser tests), where a canvas library paints pixels. No
 * dependency to keep up to date either.
 */

export interface ChartPoint {
  t: number;
  value: number;
  /** Set for a downsampled bucket: the lowest and highest value in it. */
  min?: number;
  max?: number;
}
export interface ChartAnomaly {
  id: string;
  start: number;
  end: number;
  peak: number;
  value: number;
  severity: Severity;
  acknowledged: boolean;
  label: string;
}
export interface ChartForecastPoint {
  t: number;
  value: number;
  lower80: number;
  upper80: number;
  lower95: number;
  upper95: number;
}

const W = 860;
const H = 320;
const PAD = { left: 56, right: 16, top: 14, bottom: 30 };
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;
/** A drag shorter than this (in chart pixels) is a click, not a zoom. */
const MIN_DRAG = 6;

/** About `count` round steps between lo and hi (1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayAndTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit' });
const dayOnly = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const timeLabel = (t: number, span: number) =>
  (span <= 36 * 3_600_000 ? timeOnly : span <= 8 * 86_400_000 ? dayAndTime : dayOnly).format(new Date(t));

const formatValue = (v: number) => (Math.abs(v) >= 1000 || v === Math.round(v) ? v.toFixed(0) : v.toPrecision(4));

/** Splits the points into runs without gaps longer than `gapMs`, so that the line does not bridge missing data. */
function runs(points: ChartPoint[], gapMs: number): ChartPoint[][] {
  const out: ChartPoint[][] = [];
  let run: ChartPoint[] = [];
  for (const p of points) {
    if (run.length && p.t - run[run.length - 1].t > gapMs) {
      out.push(run);
      run = [];
    }
    run.push(p);
  }
  if (run.length) out.push(run);
  return out;
}

export function MetricChart({
  name,
  unit,
  from,
  to,
  points,
  gapMs,
  anomalies,
  forecast,
  limits,
  onZoom,
}: {
  name: string;
  unit: string;
  from: number;
  to: number;
  points: ChartPoint[];
  /** Longer gaps between points are drawn as gaps. */
  gapMs: number;
  anomalies: ChartAnomaly[];
  forecast?: ChartForecastPoint[];
  limits: { lower?: number; upper?: number };
  onZoom: (from: number, to: number) => void;
}) {
  const svg = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<{ x0: number; x1: number }>();

  const end = Math.max(to, forecast?.length ? forecast[forecast.length - 1].t : to);
  const span = end - from || 1;
  const values: number[] = [];
  for (const p of points) values.push(p.min ?? p.value, p.max ?? p.value);
  for (const f of forecast ?? []) values.push(f.lower95, f.upper95);
  for (const a of anomalies) values.push(a.value);
  if (limits.lower !== undefined) values.push(limits.lower);
  if (limits.upper !== undefined) values.push(limits.upper);
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const margin = (hi - lo) * 0.06;
  lo -= margin;
  hi += margin;

  const x = (t: number) => PAD.left + ((t - from) / span) * PLOT_W;
  const y = (v: number) => PAD.top + (1 - (v - lo) / (hi - lo)) * PLOT_H;
  const timeAt = (sx: number) => from + ((Math.min(Math.max(sx, PAD.left), W - PAD.right) - PAD.left) / PLOT_W) * span;
  const line = (ps: { t: number; v: number }[]) =>
    ps.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const band = (ps: ChartForecastPoint[], lower: keyof ChartForecastPoint, upper: keyof ChartForecastPoint) =>
    `${line(ps.map((p) => ({ t: p.t, v: p[upper] })))}${ps
      .slice()
      .reverse()
      .map((p) => `L${x(p.t).toFixed(1)},${y(p[lower]).toFixed(1)}`)
      .join('')}Z`;
  const segments = runs(points, gapMs);
  const downsampled = points.some((p) => p.min !== undefined);

  /** Pointer position in chart units (the SVG scales with its box). */
  const chartX = (clientX: number) => {
    const box = svg.current!.getBoundingClientRect();
    return ((clientX - box.left) / box.width) * W;
  };

  const limitLines = (
    [
      ['upper', limits.upper],
      ['lower', limits.lower],
    ] as const
  ).filter((l): l is ['upper' | 'lower', number] => l[1] !== undefined && l[1] >= lo && l[1] <= hi);

  return (
    <figure class="chart metric-chart">
      <svg
        ref={svg}
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${name}${unit ? ` (${unit})` : ''} from ${formatTime(new Date(from).toISOString())} to ${formatTime(
          new Date(to).toISOString(),
        )}: ${points.length} ${downsampled ? 'time buckets' : 'points'}, ${anomalies.length} anomalies${
          forecast?.length ? ', with a forecast' : ''
        }`}
        onPointerDown={(e) => {
          if (e.button !== 0) return;
          const sx = chartX(e.clientX);
          if (sx < PAD.left || sx > W - PAD.right) return;
          (e.currentTarget as Element).setPointerCapture(e.pointerId);
          setDrag({ x0: sx, x1: sx });
        }}
        onPointerMove={(e) => drag && setDrag({ ...drag, x1: chartX(e.clientX) })}
        onPointerUp={() => {
          if (!drag) return;
          setDrag(undefined);
          if (Math.abs(drag.x1 - drag.x0) < MIN_DRAG) return;
          const [a, b] = [timeAt(drag.x0), timeAt(drag.x1)].sort((p, q) => p - q);
          onZoom(Math.round(a), Math.round(b));
        }}
        onPointerCancel={() => setDrag(undefined)}
      >
        <defs>
          <clipPath id="plot-area">
            <rect x={PAD.left} y={PAD.top} width={PLOT_W} height={PLOT_H} />
          </clipPath>
        </defs>
        {niceTicks(lo, hi).map((v) => (
          <g key={v} class="tick">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end">
              {formatValue(v)}
            </text>
          </g>
        ))}
        {[0, 0.25, 0.5, 0.75, 1].map((f) => {
          const t = from + f * span;
          return (
            <text key={f} class="axis" x={x(t)} y={H - 10} text-anchor={f === 0 ? 'start' : f === 1 ? 'end' : 'middle'}>
              {timeLabel(t, span)}
            </text>
          );
        })}
        <g clip-path="url(#plot-area)">
          {anomalies.map((a) => (
            <rect
              key={`span-${a.id}`}
              class="anomaly-span"
              x={x(a.start)}
              y={PAD.top}
              width={Math.max(2, x(a.end) - x(a.start))}
              height={PLOT_H}
              fill={SEVERITY_COLOURS[a.severity]}
            />
          ))}
          {forecast?.length ? (
            <g class="forecast">
              <path class="band-95" d={band(forecast, 'lower95', 'upper95')} />
              <path class="band-80" d={band(forecast, 'lower80', 'upper80')} />
              <path class="forecast-line" d={line(forecast.map((p) => ({ t: p.t, v: p.value })))} />
            </g>
          ) : null}
          {downsampled
            ? segments.map((s, i) => (
                <path
                  key={`env-${i}`}
                  class="envelope"
                  d={`${line(s.map((p) => ({ t: p.t, v: p.max ?? p.value })))}${s
                    .slice()
                    .reverse()
                    .map((p) => `L${x(p.t).toFixed(1)},${y(p.min ?? p.value).toFixed(1)}`)
                    .join('')}Z`}
                />
              ))
            : null}
          {segments.map((s, i) =>
            s.length === 1 ? (
              <circle key={`line-${i}`} class="lone-point" cx={x(s[0].t)} cy={y(s[0].value)} r="2" />
            ) : (
              <path key={`line-${i}`} class="series-line" d={line(s.map((p) => ({ t: p.t, v: p.value })))} />
            ),
          )}
          {limitLines.map(([side, v]) => (
            <g key={side} class="limit">
              <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
              <text x={W - PAD.right - 4} y={y(v) - 4} text-anchor="end">
                {`${side} limit ${formatValue(v)}${unit ? ` ${unit}` : ''}`}
              </text>
            </g>
          ))}
          {anomalies.map((a) => (
            <circle
              key={a.id}
              class={`anomaly-mark severity-${a.severity}${a.acknowledged ? ' acknowledged' : ''}`}
              data-anomaly-id={a.id}
              cx={x(a.peak)}
              cy={y(a.value)}
              r="6"
              fill={SEVERITY_COLOURS[a.severity]}
            >
              <title>{a.label}</title>
            </circle>
          ))}
          {drag ? (
            <rect
              class="zoom-selection"
              x={Math.min(drag.x0, drag.x1)}
              y={PAD.top}
              width={Math.abs(drag.x1 - drag.x0)}
              height={PLOT_H}
            />
          ) : null}
        </g>
        {to < end ? <line class="now-line" x1={x(to)} x2={x(to)} y1={PAD.top} y2={H - PAD.bottom} /> : null}
      </svg>
      <figcaption class="muted small chart-legend">
        <span>
          <span class="key key-line" /> {downsampled ? 'mean of each time bucket, shaded from its min to max' : 'value'}
        </span>
        {forecast?.length ? (
          <span>
            <span class="key key-band" /> forecast with 80 % and 95 % intervals
          </span>
        ) : null}
        {limitLines.length ? (
          <span>
            <span class="key key-limit" /> limit
          </span>
        ) : null}
        <span>
          {Object.entries(SEVERITY_COLOURS).map(([s, c]) => (
            <span key={s} class="key-severity">
              <span class="key key-dot" style={{ background: c }} /> {s}
            </span>
          ))}
        </span>
        <span>Drag across the chart to zoom in.</span>
      </figcaption>
    </figure>
  );
}

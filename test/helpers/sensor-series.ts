import { AnomalyGrouper, type SeriesAnomaly } from '../../functions/engine/series/anomalies.ts';
import { SeriesDetector } from '../../functions/engine/series/detector.ts';

export const MINUTE = 60_000;

/** A minute series with a daily-ish wave, fixed noise and spikes at the given indexes: the detector alarms on them. */
export function series(n: number, end: number, spikes: number[]): { time: number; value: number }[] {
  let seed = 7;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.4;
  return Array.from({ length: n }, (_, i) => ({
    time: end - (n - i) * MINUTE,
    value: 20 + 3 * Math.sin(i / 40) + noise() + (spikes.includes(i) ? 25 : 0),
  }));
}

/** What the engine alone finds in the same points, in one pass: the service must find exactly these. */
export function engineAnomalies(points: { time: number; value: number }[]): SeriesAnomaly[] {
  const d = new SeriesDetector();
  const g = new AnomalyGrouper();
  return points.flatMap((p) => g.push(d.step(p.time, p.value), p.value, new Date(p.time).toISOString()));
}

import { groupAnomalies, type GroupingSettings, type SeriesAnomaly, DEFAULT_GROUPING } from './anomalies.ts';
import type { CleanSeries } from './clean.ts';
import type { SeriesDetectorSettings } from './detector-settings.ts';
import { type PointScore, SeriesDetector } from './detector.ts';
import { type DetectorState, loadDetector, saveDetector } from './state.ts';

export interface SeriesDetection {
  scores: Float64Array; // one per kept point
  points: PointScore[];
  anomalies: SeriesAnomaly[];
  state: DetectorState; // to go on with the next points of the same series
}

/** Scores a cleaned series from the start, or from a saved state, and groups the anomalies. */
export function detectSeries(
  series: CleanSeries,
  options: { settings?: Partial<SeriesDetectorSettings>; state?: DetectorState; grouping?: GroupingSettings } = {},
): SeriesDetection {
  const detector = options.state ? loadDetector(options.state) : new SeriesDetector(options.settings);
  const n = series.value.length;
  const scores = new Float64Array(n);
  const points: PointScore[] = new Array(n);
  for (let i = 0; i < n; i++) {
    points[i] = detector.step(series.time[i], series.value[i]);
    scores[i] = points[i].score;
  }
  const anomalies = groupAnomalies(points, series.value, series.timestampText, options.grouping ?? DEFAULT_GROUPING);
  return { scores, points, anomalies, state: saveDetector(detector) };
}

import type { PointScore } from './detector.ts';

export type AnomalyType = 'spike' | 'drop' | 'level shift' | 'trend change' | 'variance change' | 'missing data' | 'flatline';
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** One anomaly as an operator reads it: a merged run of alarming points, or a gap, or a stuck sensor. */
export interface SeriesAnomaly {
  start: string; // timestamps as they were given
  end: string;
  peak: string;
  type: AnomalyType;
  severity: Severity;
  score: number; // the highest anomaly score in the run (1 for missing data and flatline)
  value: number; // at the peak
  expected: number; // what the detector expected at the peak
  deviation_percent: number | null; // (value - expected) / |expected|, null when nothing was expected to be 0
  confidence: number; // 0..1: how far the peak is past the threshold
  points: number;
}

export interface GroupingSettings {
  threshold: number; // a score at or above this opens or extends an anomaly
  persist: number; // robust sigmas: a run goes on while the deviation stays this large
  mergeGap: number; // runs closer than this many points are one anomaly
}

export const DEFAULT_GROUPING: GroupingSettings = { threshold: 0.4, persist: 3, mergeGap: 12 };

/** Severity bands of the peak score above the alarm threshold. */
export function severityOf(score: number): Severity {
  return score >= 0.9 ? 'critical' : score >= 0.7 ? 'high' : score >= 0.5 ? 'medium' : 'low';
}

interface Run {
  first: number;
  last: number;
  peak: number;
}

/**
 * Turns scored points into anomalies. A run opens at a score over the threshold and goes on while the deviation
 * persists (suppression keeps the scores of a long event low after its first alarm: the deviation says it is still
 * going). The type follows from which view alarmed and how the run behaved: a step that stays is a level shift, a
 * deviation that grows through a long run a trend change, a changed step size a variance change.
 */
export function groupAnomalies(points: readonly PointScore[], values: ArrayLike<number>, timestamps: readonly string[], settings: GroupingSettings = DEFAULT_GROUPING): SeriesAnomaly[] {
  const out: SeriesAnomaly[] = [];
  let run: Run | undefined;
  const close = () => {
    if (run) out.push(describeRun(run, points, values, timestamps, settings));
    run = undefined;
  };
  let flatStart = -1;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p.gapBefore && i > 0) {
      out.push(fixedAnomaly('missing data', i - 1, i, values, timestamps, points));
    }
    if (!p.stuck && flatStart >= 0) {
      out.push(fixedAnomaly('flatline', flatStart, i - 1, values, timestamps, points));
      flatStart = -1;
    }
    if (p.stuck && flatStart < 0) flatStart = i - p.flatRun + 1;
    if (p.score >= settings.threshold) {
      if (run && i - run.last <= settings.mergeGap) {
        run.last = i;
        if (p.score > points[run.peak].score) run.peak = i;
      } else {
        close();
        run = { first: i, last: i, peak: i };
      }
    } else if (run && i - run.last <= settings.mergeGap && carriesOn(p, points[run.peak], settings.persist)) {
      run.last = i;
    }
    else if (run && i - run.last > settings.mergeGap) close();
  }
  close();
  if (flatStart >= 0) out.push(fixedAnomaly('flatline', flatStart, points.length - 1, values, timestamps, points));
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

function describeRun(run: Run, points: readonly PointScore[], values: ArrayLike<number>, timestamps: readonly string[], settings: GroupingSettings): SeriesAnomaly {
  const peak = points[run.peak];
  const length = run.last - run.first + 1;
  let type: AnomalyType;
  const sameSign = shareOfSign(points, run, Math.sign(peak.raw));
  if (peak.view === 'spread') type = 'variance change';
  else if (length >= 10 && growsThrough(points, run)) type = 'trend change';
  else if (length >= 6 && sameSign >= 0.8) type = 'level shift';
  else if (length >= 6) type = 'variance change'; // a long run that swings both ways
  else type = peak.raw >= 0 ? 'spike' : 'drop';
  const value = values[run.peak];
  return {
    start: timestamps[run.first],
    end: timestamps[run.last],
    peak: timestamps[run.peak],
    type,
    severity: severityOf(peak.score),
    score: round(peak.score),
    value,
    expected: round(peak.expected),
    deviation_percent: percent(value, peak.expected),
    confidence: round(Math.min(1, 0.5 + (0.5 * (peak.score - settings.threshold)) / (1 - settings.threshold))),
    points: length,
  };
}

/**
 * Whether a point below the threshold still belongs to the run: it deviates as much as `persist`, to the same side
 * as the peak, in a point view (the step-size view stays high for as many points as it averages after any spike,
 * which says nothing about the values) unless the run is itself a change of step size.
 */
function carriesOn(p: PointScore, peak: PointScore, persist: number): boolean {
  if (Math.abs(p.raw) < persist || Math.sign(p.raw) !== Math.sign(peak.raw)) return false;
  return p.view !== 'spread' || peak.view === 'spread';
}

/** Share of the run's points deviating to the same side as the peak. */
function shareOfSign(points: readonly PointScore[], run: Run, sign: number): number {
  let same = 0;
  for (let i = run.first; i <= run.last; i++) if (Math.sign(points[i].raw) === sign) same++;
  return same / (run.last - run.first + 1);
}

/** Whether |deviation| rises through the run: a drift rather than a step. */
function growsThrough(points: readonly PointScore[], run: Run): boolean {
  const n = run.last - run.first + 1;
  const half = Math.floor(n / 2);
  let early = 0;
  let late = 0;
  for (let i = 0; i < half; i++) early += Math.abs(points[run.first + i].raw);
  for (let i = n - half; i < n; i++) late += Math.abs(points[run.first + i].raw);
  return late > 1.5 * early;
}

function fixedAnomaly(type: 'missing data' | 'flatline', first: number, last: number, values: ArrayLike<number>, timestamps: readonly string[], points: readonly PointScore[]): SeriesAnomaly {
  const at = type === 'missing data' ? last : first;
  return {
    start: timestamps[first],
    end: timestamps[last],
    peak: timestamps[at],
    type,
    severity: type === 'missing data' ? 'medium' : 'high',
    score: 1,
    value: values[at],
    expected: round(points[at].expected),
    // A gap is the absence of values: the value after it measures nothing about the gap.
    deviation_percent: type === 'missing data' ? null : percent(values[at], points[at].expected),
    confidence: 1,
    points: last - first + 1,
  };
}

function percent(value: number, expected: number): number | null {
  if (!Number.isFinite(expected) || expected === 0) return null;
  return round(((value - expected) / Math.abs(expected)) * 100);
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

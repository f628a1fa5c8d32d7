import type { PointScore } from './detector.ts';

export type AnomalyType =
  'spike' | 'drop' | 'level shift' | 'trend change' | 'variance change' | 'missing data' | 'flatline';
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

/** A point as the grouper remembers it. */
interface Seen {
  time: string;
  value: number;
  expected: number;
}

/** Shape sums over a stretch of points: how many deviate to the peak's side, and |deviation| against position. */
interface Shape {
  n: number;
  sameSign: number;
  sk: number;
  skk: number;
  sr: number;
  skr: number;
}

/** An open run of alarming points: everything needed to describe it, in a few numbers. */
interface OpenRun {
  first: Seen;
  last: Seen;
  peak: Seen & { score: number; raw: number; view: PointScore['view'] };
  length: number; // points from first to last
  since: number; // points after `last` not (yet) part of the run
  shape: Shape; // of the points first..last
  pending: Shape; // of the points after last, joined if the run goes on
}

/** The grouper's state: plain JSON, kept beside the detector's to go on in another process. */
export interface GroupingState {
  previous: Seen | null;
  stillSince: Seen | null; // the first point of the current run of identical values
  flatline: Seen | null; // the start of a flatline under way
  flatPoints: number;
  run: OpenRun | null;
}

const emptyShape = (): Shape => ({ n: 0, sameSign: 0, sk: 0, skk: 0, sr: 0, skr: 0 });

/**
 * Turns scored points into anomalies, online: `push` a point, get the anomalies it closed. A run opens at a score
 * over the threshold and goes on while the deviation persists (suppression keeps the scores of a long event low
 * after its first alarm: the deviation says it is still going). The type follows from which view alarmed and how
 * the run behaved: a step that stays on one side is a level shift, a deviation that grows through a long run a
 * trend change, a changed step size (or a long run swinging both ways) a variance change.
 */
export class AnomalyGrouper {
  state: GroupingState;

  constructor(
    private readonly settings: GroupingSettings = DEFAULT_GROUPING,
    state?: GroupingState,
  ) {
    this.state = state
      ? structuredClone(state)
      : { previous: null, stillSince: null, flatline: null, flatPoints: 0, run: null };
  }

  push(p: PointScore, value: number, time: string): SeriesAnomaly[] {
    const out: SeriesAnomaly[] = [];
    const st = this.state;
    const here: Seen = { time, value, expected: p.expected };
    if (p.gapBefore && st.previous) out.push(fixed('missing data', st.previous, here, 2));
    if (p.flatRun === 1) st.stillSince = here;
    if (!p.stuck && st.flatline && st.previous) {
      out.push(fixed('flatline', st.flatline, st.previous, st.flatPoints));
      st.flatline = null;
    }
    if (p.stuck) {
      if (!st.flatline) st.flatline = st.stillSince ?? here;
      st.flatPoints = p.flatRun;
    }

    const run = st.run;
    if (p.score >= this.settings.threshold) {
      if (run && run.since < this.settings.mergeGap) {
        this.extend(run, p, here);
        if (p.score > run.peak.score) run.peak = { ...here, score: p.score, raw: p.raw, view: p.view };
      } else {
        if (run) out.push(this.describe(run));
        st.run = {
          first: here,
          last: here,
          peak: { ...here, score: p.score, raw: p.raw, view: p.view },
          length: 0,
          since: 0,
          shape: emptyShape(),
          pending: emptyShape(),
        };
        this.extend(st.run, p, here);
      }
    } else if (run && run.since < this.settings.mergeGap && carriesOn(p, run.peak, this.settings.persist)) {
      this.extend(run, p, here);
    } else if (run) {
      run.since++;
      addTo(run.pending, run.length + run.since - 1, p, run.peak.raw);
      if (run.since > this.settings.mergeGap) {
        out.push(this.describe(run));
        st.run = null;
      }
    }
    st.previous = here;
    return out;
  }

  /** The anomalies still open at the end of the data (they may go on: only for a finished batch). */
  flush(): SeriesAnomaly[] {
    const out: SeriesAnomaly[] = [];
    if (this.state.run) out.push(this.describe(this.state.run));
    if (this.state.flatline && this.state.previous)
      out.push(fixed('flatline', this.state.flatline, this.state.previous, this.state.flatPoints));
    this.state.run = null;
    this.state.flatline = null;
    return out;
  }

  /** The run now reaches this point: the points waited through join it. */
  private extend(run: OpenRun, p: PointScore, here: Seen): void {
    const s = run.shape;
    const q = run.pending;
    s.n += q.n;
    s.sameSign += q.sameSign;
    s.sk += q.sk;
    s.skk += q.skk;
    s.sr += q.sr;
    s.skr += q.skr;
    run.pending = emptyShape();
    addTo(s, run.length + run.since, p, run.peak.raw);
    run.length += run.since + 1;
    run.since = 0;
    run.last = here;
  }

  private describe(run: OpenRun): SeriesAnomaly {
    const peak = run.peak;
    const sameSign = run.shape.sameSign / Math.max(1, run.shape.n);
    let type: AnomalyType;
    if (peak.view === 'spread') type = 'variance change';
    else if (run.length >= 10 && grows(run.shape)) type = 'trend change';
    else if (run.length >= 6 && sameSign >= 0.8) type = 'level shift';
    else if (run.length >= 6)
      type = 'variance change'; // a long run that swings both ways
    else type = peak.raw >= 0 ? 'spike' : 'drop';
    const t = this.settings.threshold;
    return {
      start: run.first.time,
      end: run.last.time,
      peak: peak.time,
      type,
      severity: severityOf(peak.score),
      score: round(peak.score),
      value: peak.value,
      expected: round(peak.expected),
      deviation_percent: percent(peak.value, peak.expected),
      confidence: round(Math.min(1, 0.5 + (0.5 * (peak.score - t)) / (1 - t))),
      points: run.length,
    };
  }
}

/** Adds the point at position k of a run to its shape sums. */
function addTo(shape: Shape, k: number, p: PointScore, peakRaw: number): void {
  const r = Math.abs(p.raw);
  shape.n++;
  if (Math.sign(p.raw) === Math.sign(peakRaw)) shape.sameSign++;
  shape.sk += k;
  shape.skk += k * k;
  shape.sr += r;
  shape.skr += k * r;
}

/** Whether |deviation| rises through the run (least-squares line, end over start): a drift rather than a step. */
function grows(s: Shape): boolean {
  const denominator = s.n * s.skk - s.sk * s.sk;
  if (denominator <= 0) return false;
  const slope = (s.n * s.skr - s.sk * s.sr) / denominator;
  const intercept = (s.sr - slope * s.sk) / s.n;
  const end = intercept + slope * (s.sk / s.n) * 2; // the fitted value at the far end (twice the mean position)
  return intercept > 0 ? end > 1.5 * intercept : slope > 0;
}

/**
 * Whether a point below the threshold still belongs to the run: it deviates as much as `persist`, to the same side
 * as the peak, in a point view (the step-size view stays high for as many points as it averages after any spike,
 * which says nothing about the values) unless the run is itself a change of step size.
 */
function carriesOn(p: PointScore, peak: { raw: number; view: PointScore['view'] }, persist: number): boolean {
  if (Math.abs(p.raw) < persist || Math.sign(p.raw) !== Math.sign(peak.raw)) return false;
  return p.view !== 'spread' || peak.view === 'spread';
}

function fixed(type: 'missing data' | 'flatline', first: Seen, last: Seen, points: number): SeriesAnomaly {
  const at = type === 'missing data' ? last : first;
  return {
    start: first.time,
    end: last.time,
    peak: at.time,
    type,
    severity: type === 'missing data' ? 'medium' : 'high',
    score: 1,
    value: at.value,
    expected: round(at.expected),
    // A gap is the absence of values: the value after it measures nothing about the gap.
    deviation_percent: type === 'missing data' ? null : percent(at.value, at.expected),
    confidence: 1,
    points,
  };
}

/** Groups a whole scored batch (the grouper run over it and flushed), in order of start. */
export function groupAnomalies(
  points: readonly PointScore[],
  values: ArrayLike<number>,
  timestamps: readonly string[],
  settings: GroupingSettings = DEFAULT_GROUPING,
): SeriesAnomaly[] {
  const grouper = new AnomalyGrouper(settings);
  const out: SeriesAnomaly[] = [];
  for (let i = 0; i < points.length; i++) out.push(...grouper.push(points[i], values[i], timestamps[i]));
  out.push(...grouper.flush());
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

function percent(value: number, expected: number): number | null {
  if (!Number.isFinite(expected) || expected === 0) return null;
  return round(((value - expected) / Math.abs(expected)) * 100);
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

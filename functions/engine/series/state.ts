import { DEFAULT_SETTINGS, type SeriesDetectorSettings, VIEW_NAMES } from './detector-settings.ts';
import { SeriesDetector } from './detector.ts';
import type { RarityHistogram } from './rarity.ts';
import { RollingWindow } from './rolling-window.ts';
import { SeriesInputError } from './series-error.ts';
import type { SeriesView } from './view.ts';

/** Bumped whenever the detector's state or arithmetic changes: an old state must not give silently different scores. */
export const DETECTOR_STATE_VERSION = 1;

/**
 * Everything a detector needs to go on in another process with the same answers: its settings, scalar counters and
 * its windows as base64 of their float32 (view windows) or float64 bytes: exact, unlike decimal text. JSON-safe: no NaN.
 */
export interface DetectorState {
  version: number;
  settings: SeriesDetectorSettings;
  seen: number;
  lastValue: number;
  lastTime: number;
  flatRun: number;
  longestFlat: number;
  suppressLeft: number;
  peak: number;
  season: { mean: string; seen: string; firstTime: number | null };
  week: { mean: string; seen: string; firstTime: number | null };
  lastValues: string;
  lastSteps: string;
  lastResiduals: string;
  intervals: string;
  views: Record<
    string,
    { seen: number; recent: string; long: string; rarity: HistogramState; longRarity: HistogramState | null }
  >;
}

interface HistogramState {
  counts: string;
  total: number;
  weight: number;
  added: number;
}

function saveHistogram(h: RarityHistogram): HistogramState {
  return { counts: encode(h.counts), total: h.total, weight: h.weight, added: h.added };
}

function loadHistogram(h: RarityHistogram, saved: HistogramState): void {
  h.counts.set(decode(saved.counts));
  h.total = saved.total;
  h.weight = saved.weight;
  h.added = saved.added;
}

function encode(values: Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** Windows of single-precision features: exact as float32, half the bytes. */
function encode32(values: Float64Array): string {
  const f = Float32Array.from(values);
  return Buffer.from(f.buffer).toString('base64');
}

function decode32(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  const f = new Float32Array(bytes.length / 4);
  new Uint8Array(f.buffer).set(bytes.subarray(0, f.length * 4));
  return Float64Array.from(f);
}

function decode(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 8));
  return out;
}

export function saveDetector(detector: SeriesDetector): DetectorState {
  const views: DetectorState['views'] = {};
  for (const [name, view] of detector.views) {
    views[name] = {
      seen: view.seen,
      recent: encode32(view.recent.values()),
      long: encode32(view.long.values()),
      rarity: saveHistogram(view.rarity),
      longRarity: view.longRarity ? saveHistogram(view.longRarity) : null,
    };
  }
  return {
    version: DETECTOR_STATE_VERSION,
    settings: detector.settings,
    seen: detector.seen,
    lastValue: detector.lastValue,
    lastTime: detector.lastTime,
    flatRun: detector.flatRun,
    longestFlat: detector.longestFlat,
    suppressLeft: detector.suppressLeft,
    peak: detector.peak,
    season: {
      mean: encode(detector.season.mean),
      seen: encode(detector.season.seen),
      firstTime: finiteOrNull(detector.season.firstTime),
    },
    week: {
      mean: encode(detector.week.mean),
      seen: encode(detector.week.seen),
      firstTime: finiteOrNull(detector.week.firstTime),
    },
    lastValues: encode(detector.lastValues.values()),
    lastSteps: encode(detector.lastSteps.values()),
    lastResiduals: encode(detector.lastResiduals.values()),
    intervals: encode(detector.intervals.values()),
    views,
  };
}

/** A detector that continues exactly where the saved one stopped. */
export function loadDetector(state: DetectorState): SeriesDetector {
  if (state?.version !== DETECTOR_STATE_VERSION) {
    throw new SeriesInputError(
      `detector state version ${state?.version} is not ${DETECTOR_STATE_VERSION}: start the series afresh`,
      { version: state?.version },
    );
  }
  const settings: SeriesDetectorSettings = { ...DEFAULT_SETTINGS, ...state.settings };
  const detector = new SeriesDetector(settings);
  detector.seen = state.seen;
  detector.lastValue = state.lastValue;
  detector.lastTime = state.lastTime;
  detector.flatRun = state.flatRun;
  detector.longestFlat = state.longestFlat;
  detector.suppressLeft = state.suppressLeft;
  detector.peak = state.peak;
  detector.season.mean.set(decode(state.season.mean));
  detector.season.seen.set(decode(state.season.seen));
  detector.week.mean.set(decode(state.week.mean));
  detector.week.seen.set(decode(state.week.seen));
  detector.season.firstTime = state.season.firstTime ?? Number.NaN;
  detector.week.firstTime = state.week.firstTime ?? Number.NaN;
  detector.lastValues = RollingWindow.from(settings.smooth, decode(state.lastValues));
  detector.lastSteps = RollingWindow.from(settings.smooth, decode(state.lastSteps));
  detector.lastResiduals = RollingWindow.from(settings.smooth, decode(state.lastResiduals));
  detector.intervals = RollingWindow.from(detector.intervals.capacity, decode(state.intervals));
  for (const name of VIEW_NAMES) {
    const saved = state.views[name];
    const view = detector.views.get(name) as SeriesView | undefined;
    if (!view || !saved) continue;
    view.seen = saved.seen;
    replaceWindow(view.recent, decode32(saved.recent));
    replaceWindow(view.long, decode32(saved.long));
    loadHistogram(view.rarity, saved.rarity);
    if (view.longRarity && saved.longRarity) loadHistogram(view.longRarity, saved.longRarity);
  }
  return detector;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function replaceWindow(window: RollingWindow, values: Float64Array): void {
  for (const v of values) window.push(v);
}

import { DEFAULT_SETTINGS, type SeriesDetectorSettings, VIEW_NAMES } from './detector-settings.ts';
import { SeriesDetector } from './detector.ts';
import { RollingWindow } from './rolling-window.ts';
import { SeriesInputError } from './series-error.ts';
import type { SeriesView } from './view.ts';

/** Bumped whenever the detector's state or arithmetic changes: an old state must not give silently different scores. */
export const DETECTOR_STATE_VERSION = 1;

/**
 * Everything a detector needs to go on in another process with the same answers: its settings, scalar counters and
 * its windows as base64 of the float64 bytes (exact, unlike decimal text, and a third smaller). JSON-safe: no NaN.
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
  season: { mean: string; seen: string };
  lastValues: string;
  lastSteps: string;
  lastResiduals: string;
  intervals: string;
  views: Record<string, { seen: number; recent: string; long: string; rarity: string; rarityTotal: number; rarityWeight: number; rarityAdded: number }>;
}

function encode(values: Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
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
    views[name] = { seen: view.seen, recent: encode(view.recent.values()), long: encode(view.long.values()), rarity: encode(view.rarity.counts), rarityTotal: view.rarity.total, rarityWeight: view.rarity.weight, rarityAdded: view.rarity.added };
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
    season: { mean: encode(detector.season.mean), seen: encode(detector.season.seen) },
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
    throw new SeriesInputError(`detector state version ${state?.version} is not ${DETECTOR_STATE_VERSION}: start the series afresh`, { version: state?.version });
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
  detector.lastValues = RollingWindow.from(settings.smooth, decode(state.lastValues));
  detector.lastSteps = RollingWindow.from(settings.smooth, decode(state.lastSteps));
  detector.lastResiduals = RollingWindow.from(settings.smooth, decode(state.lastResiduals));
  detector.intervals = RollingWindow.from(detector.intervals.capacity, decode(state.intervals));
  for (const name of VIEW_NAMES) {
    const saved = state.views[name];
    const view = detector.views.get(name) as SeriesView | undefined;
    if (!view || !saved) continue;
    view.seen = saved.seen;
    replaceWindow(view.recent, decode(saved.recent));
    replaceWindow(view.long, decode(saved.long));
    view.rarity.counts.set(decode(saved.rarity));
    view.rarity.total = saved.rarityTotal;
    view.rarity.weight = saved.rarityWeight;
    view.rarity.added = saved.rarityAdded;
  }
  return detector;
}

function replaceWindow(window: RollingWindow, values: Float64Array): void {
  for (const v of values) window.push(v);
}

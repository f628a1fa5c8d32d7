import { DEFAULT_SETTINGS, type SeriesDetectorSettings, VIEW_NAMES, type ViewName } from './detector-settings.ts';
import { RollingWindow } from './rolling-window.ts';
import { SeasonProfile } from './season-profile.ts';
import { SeriesView } from './view.ts';

const DAY_MS = 86_400_000;
const INTERVAL_SAMPLES = 32; // deltas that fix the nominal interval
const GAP_FACTOR = 3; // a delta over this many nominal intervals is missing data
const FLAT_POINTS = 60; // the shortest run of identical values called a flatline

/** What the detector says about one point; every number finite. */
export interface PointScore {
  score: number; // anomaly score in [0, 1]
  raw: number; // the deviation of the most alarming view, in robust standard deviations (signed: + above)
  view: ViewName; // the most alarming view
  expected: number; // what the point was expected to be (daily profile, else the rolling median)
  gapBefore: boolean; // the time since the previous point is several nominal intervals
  flatRun: number; // identical values in a row so far, this one included
  stuck: boolean; // the value has not changed for longer than this series has ever stayed put (a flatline)
}

/**
 * Online anomaly detector for one series. Each point is judged against earlier points only, through several views
 * (see view.ts): each gives a robust deviation and how rare that deviation has been; the score is the rarest, and an
 * alarm damps the scores that follow it for a while (one event, one alarm: NAB's and the operators' wish alike).
 * O(window) per point, all state in typed arrays.
 */
export class SeriesDetector {
  readonly settings: SeriesDetectorSettings;
  readonly views: Map<ViewName, SeriesView>;
  private readonly viewList: [ViewName, SeriesView][]; // the same, as an array for the per-point loop
  season: SeasonProfile;
  week: SeasonProfile;
  lastValues: RollingWindow; // the last `smooth` values, steps and residuals, for the smoothed views
  lastSteps: RollingWindow;
  lastResiduals: RollingWindow;
  intervals: RollingWindow; // the first deltas, for the nominal interval
  seen = 0;
  lastValue = 0;
  lastTime = 0;
  flatRun = 0;
  longestFlat = 0; // the longest run of identical values that has ended
  suppressLeft = 0;
  peak = 0; // the highest score of the current suppression period

  constructor(settings: Partial<SeriesDetectorSettings> = {}) {
    this.settings = { ...DEFAULT_SETTINGS, ...settings };
    const s = this.settings;
    const decay = 0.5 ** (1 / s.rarityHalfLife);
    const longDecay = s.longRarityHalfLife > 0 ? 0.5 ** (1 / s.longRarityHalfLife) : 0;
    this.views = new Map(
      VIEW_NAMES.filter((v) => s.views.includes(v)).map((v) => [
        v,
        new SeriesView(s.window, s.longStride, decay, longDecay),
      ]),
    );
    this.viewList = [...this.views];
    this.season = new SeasonProfile(DAY_MS, s.seasonBins, s.seasonAlpha);
    this.week = new SeasonProfile(7 * DAY_MS, s.weekBins, s.seasonAlpha);
    this.lastValues = new RollingWindow(s.smooth);
    this.lastSteps = new RollingWindow(s.smooth);
    this.lastResiduals = new RollingWindow(s.smooth);
    this.intervals = new RollingWindow(INTERVAL_SAMPLES);
  }

  step(time: number, value: number): PointScore {
    const s = this.settings;
    const first = this.seen === 0;
    const delta = first ? 0 : time - this.lastTime;
    const nominal = this.intervals.size >= 8 ? this.intervals.quantile(0.5) : Number.POSITIVE_INFINITY;
    const gapBefore = !first && delta > GAP_FACTOR * nominal;
    if (!first && value === this.lastValue) this.flatRun++;
    else {
      if (this.flatRun > this.longestFlat) this.longestFlat = this.flatRun;
      this.flatRun = 1;
    }
    // A square wave sits still for hours by design: only a run twice as long as any before is a stuck sensor.
    // The first run has nothing to compare with: a series that starts still (a night, a square wave) is not yet
    // stuck, one that stays still for five times the minimum is.
    const stuck =
      this.flatRun >= Math.max(FLAT_POINTS, 2 * this.longestFlat + 1) &&
      (this.longestFlat > 0 || this.flatRun >= 5 * FLAT_POINTS);

    const expectedSeason = this.season.expected(time, s.seasonMinSeen, s.dayGate);
    const residual = value - expectedSeason; // NaN until the profile knows this time of day
    const stepSize = first ? Number.NaN : value - this.lastValue;
    this.lastValues.push(value);
    if (!first) this.lastSteps.push(Math.abs(stepSize));
    if (Number.isFinite(residual)) this.lastResiduals.push(residual);

    const expectedWeek = this.week.expected(time, s.seasonMinSeen);
    let score = 0;
    let raw = 0;
    let view: ViewName = 'value';
    for (let k = 0; k < this.viewList.length; k++) {
      const [name, v] = this.viewList[k];
      const feature = name === 'week' ? value - expectedWeek : this.feature(name, value, stepSize, residual);
      if (!Number.isFinite(feature)) continue;
      const z = v.deviation(feature);
      const tail = v.tail(z, s.rarityPrior);
      // Views on a profile start late (after a day, a week): their first deviations are judged on little history.
      const ready = v.seen >= (name === 'season' || name === 'week' || name === 'seasonLevel' ? s.viewWarmup : 0);
      v.learn(feature, z);
      const viewScore = Math.abs(z) < s.minRaw || !ready ? 0 : Math.min(1, -Math.log10(tail) / s.rarityDecades);
      // The score is the most alarming view's; the view that describes the point (its deviation, its expected
      // value, the anomaly's type) is the one that deviates most among views alarming nearly as much.
      if (viewScore >= 0.9 * score && (viewScore > score / 0.9 || Math.abs(z) > Math.abs(raw))) {
        raw = z;
        view = name;
      }
      if (viewScore > score) score = viewScore;
    }
    // What the alarming view expected: its profile's value, else the recent median of the values.
    const median = this.views.get('value')?.recent.quantile(0.5) ?? value;
    const byView = view === 'week' ? expectedWeek : view === 'season' ? expectedSeason : median;
    const expected = Number.isFinite(byView) ? byView : Number.isFinite(expectedSeason) ? expectedSeason : median;

    if (this.seen < s.warmupPoints) score = 0;
    // After a high score, only a higher one passes for a while: one event, one alarm, whatever threshold a
    // caller applies (NAB picks its own). The period restarts at each new peak.
    if (
      this.suppressLeft > 0 &&
      (score <= this.peak + s.suppressMargin || s.suppressPoints - this.suppressLeft < s.refractoryPoints)
    ) {
      this.suppressLeft--;
      score *= s.suppressFactor;
    } else if (score >= s.alarmLevel) {
      this.peak = score;
      this.suppressLeft = s.suppressPoints;
    } else if (this.suppressLeft > 0) this.suppressLeft--;
    if (this.suppressLeft === 0) this.peak = 0;

    this.season.update(time, value);
    if (this.views.has('week')) this.week.update(time, value);
    if (!first && this.intervals.size < INTERVAL_SAMPLES) this.intervals.push(delta);
    this.lastValue = value;
    this.lastTime = time;
    this.seen++;
    return {
      score: score > 1 ? 1 : score > 0 ? score : 0,
      raw,
      view,
      expected: Number.isFinite(expected) ? expected : value,
      gapBefore,
      flatRun: this.flatRun,
      stuck,
    };
  }

  private feature(name: ViewName, value: number, stepSize: number, residual: number): number {
    switch (name) {
      case 'value':
        return value;
      case 'step':
        return stepSize;
      case 'season':
        return residual;
      case 'level':
        return mean(this.lastValues);
      case 'seasonLevel':
        return this.lastResiduals.size === this.settings.smooth && Number.isFinite(residual)
          ? mean(this.lastResiduals)
          : Number.NaN;
      case 'week': // computed in step: it needs the time
        return Number.NaN;
      case 'spread':
        return this.lastSteps.size === this.settings.smooth ? mean(this.lastSteps) : Number.NaN;
    }
  }
}

/** Mean of a small window, summed afresh each time so that a resumed detector adds in the same order. */
function mean(window: RollingWindow): number {
  let sum = 0;
  for (let i = 0; i < window.size; i++) sum += window.recent(i);
  return sum / window.size;
}

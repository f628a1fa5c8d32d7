/**
 * The detector's settings: one configuration for every series (NAB's rule, and the customers' reality: nobody tunes
 * per sensor). Counts are in points. Named variants are kept for `faultline series eval --detector`.
 */
export interface SeriesDetectorSettings {
  warmupPoints: number; // no alarm before this many points: the windows are still filling
  window: number; // points in each view's rolling window
  viewWarmup: number; // features a view must have seen before it may alarm (a view can start late: season, week)
  longStride: number; // each view's long window keeps every n-th feature, covering window * longStride points (0 = off)
  smooth: number; // points averaged by the smoothed views
  seasonBins: number; // time-of-day bins of the daily profile
  seasonAlpha: number; // EWMA rate of a daily bin
  seasonMinSeen: number; // points a bin needs before its residual counts
  dayGate: boolean; // the daily profile speaks only after a whole day
  weekBins: number; // hour-of-week bins of the weekly profile (the 'week' view)
  views: readonly ViewName[];
  rarityHalfLife: number; // points after which an old deviation counts half in a view's history
  longRarityHalfLife: number; // a second, slower history: a deviation must be rare in both (0 = off)
  rarityPrior: number; // pseudo-points of "never seen": a tail share can not go below 0.01 * prior / (total + prior)
  rarityDecades: number; // tail share 10^-decades maps to score 1
  minRaw: number; // deviations below this many robust sigmas never alarm, however quiet the history
  alarmLevel: number; // a score at or above this is an alarm and starts a suppression period
  suppressPoints: number; // after an alarm, scores are damped for this many points
  suppressFactor: number; // damped score = score * factor
  refractoryPoints: number; // right after an alarm even a higher score is damped: one event rising is one alarm
  suppressMargin: number; // during suppression only a score this much above the period's peak passes
}

export const VIEW_NAMES = ['value', 'step', 'season', 'level', 'seasonLevel', 'spread', 'week'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export const DEFAULT_SETTINGS: SeriesDetectorSettings = {
  warmupPoints: 150,
  window: 384,
  viewWarmup: 384,
  longStride: 8,
  smooth: 6,
  seasonBins: 48,
  seasonAlpha: 0.1,
  seasonMinSeen: 3,
  dayGate: false,
  weekBins: 168,
  views: ['value', 'season', 'spread', 'week'],
  rarityHalfLife: 2000,
  longRarityHalfLife: 20_000,
  rarityPrior: 1,
  rarityDecades: 6,
  minRaw: 4,
  alarmLevel: 0.3,
  suppressPoints: 200,
  suppressFactor: 0.2,
  refractoryPoints: 10,
  suppressMargin: 0,
};

export const DETECTOR_VARIANTS: Record<string, Partial<SeriesDetectorSettings>> = {
  default: {},
  // Ablations kept for the README's table: each drops one idea of the default.
  'value-only': { views: ['value'] },
  'no-week': { views: ['value', 'season', 'spread'] },
  'no-season': { views: ['value', 'spread', 'week'] },
  'no-spread': { views: ['value', 'season', 'week'] },
  'no-long-window': { longStride: 0 },
  'no-long-rarity': { longRarityHalfLife: 0 },
  'no-refractory': { refractoryPoints: 0 },
  'no-suppression': { suppressPoints: 0 },
  'no-view-warmup': { viewWarmup: 0 },
  'window-256': { window: 256 },
  'window-512': { window: 512 },
  // Ideas that lost, kept to reproduce the table.
  'day-gate': { dayGate: true },
  'strict-suppression': { suppressMargin: 0.5 },
};

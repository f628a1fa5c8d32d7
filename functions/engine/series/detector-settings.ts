/**
 * The detector's settings: one configuration for every series (NAB's rule, and the customers' reality: nobody tunes
 * per sensor). Counts are in points. Named variants are kept for `faultline series eval --detector`.
 */
export interface SeriesDetectorSettings {
  warmupPoints: number; // no alarm before this many points: the windows are still filling
  window: number; // points in each view's rolling window
  longStride: number; // each view's long window keeps every n-th feature, covering window * longStride points (0 = off)
  smooth: number; // points averaged by the smoothed views
  seasonBins: number; // time-of-day bins of the daily profile
  seasonAlpha: number; // EWMA rate of a daily bin
  seasonMinSeen: number; // points a bin needs before its residual counts
  views: readonly ViewName[];
  rarityHalfLife: number; // points after which an old deviation counts half in a view's history
  rarityPrior: number; // pseudo-points of "never seen": a tail share can not go below 0.01 * prior / (total + prior)
  rarityDecades: number; // tail share 10^-decades maps to score 1
  minRaw: number; // deviations below this many robust sigmas never alarm, however quiet the history
  alarmLevel: number; // a score at or above this is an alarm and starts a suppression period
  suppressPoints: number; // after an alarm, scores are damped for this many points
  suppressFactor: number; // damped score = score * factor
}

export const VIEW_NAMES = ['value', 'step', 'season', 'level', 'seasonLevel', 'spread'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export const DEFAULT_SETTINGS: SeriesDetectorSettings = {
  warmupPoints: 150,
  window: 384,
  longStride: 8,
  smooth: 6,
  seasonBins: 48,
  seasonAlpha: 0.1,
  seasonMinSeen: 3,
  views: ['value', 'season', 'spread'],
  rarityHalfLife: 2000,
  rarityPrior: 1,
  rarityDecades: 6,
  minRaw: 4,
  alarmLevel: 0.3,
  suppressPoints: 200,
  suppressFactor: 0.2,
};

export const DETECTOR_VARIANTS: Record<string, Partial<SeriesDetectorSettings>> = {
  default: {},
  // Ablations kept for the README's table: each drops one idea of the default.
  'value-only': { views: ['value'] },
  'no-season': { views: ['value', 'spread'] },
  'no-spread': { views: ['value', 'season'] },
  'no-long-window': { longStride: 0 },
  'no-suppression': { suppressPoints: 0 },
  'window-256': { window: 256 },
  'window-512': { window: 512 },
};

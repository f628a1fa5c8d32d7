/**
 * NAB's scoring rule (numenta/NAB nab/sweeper.py, MIT), re-done in TypeScript so that detector variants can be
 * compared in a second rather than a minute: every file's points get their NAB weight (early in a window is worth
 * up to 1, a point outside windows costs the profile's FP weight, scaled down just after a window), and one
 * threshold is swept over the whole corpus. `faultline series eval` still reports NAB's own scorer.
 */
export interface NabProfile {
  name: string;
  tp: number;
  fp: number;
  fn: number;
}

export const NAB_PROFILES: readonly NabProfile[] = [
  { name: 'standard', tp: 1, fp: 0.11, fn: 1 },
  { name: 'reward_low_FP_rate', tp: 1, fp: 0.22, fn: 1 },
  { name: 'reward_low_FN_rate', tp: 1, fp: 0.11, fn: 2 },
];

export interface NabFile {
  timestamps: readonly number[]; // ms, as in the data file
  scores: ArrayLike<number>;
  windows: readonly (readonly [number, number])[]; // ms, inclusive
}

function scaledSigmoid(position: number): number {
  return position > 3 ? -1 : 2 / (1 + Math.exp(5 * position)) - 1;
}

interface Point {
  score: number;
  weight: number;
  window: number; // -1 outside windows, -2 probationary
}

function sweepPoints(file: NabFile, profile: NabProfile, windowBase: number): Point[] {
  const n = file.timestamps.length;
  const probation = Math.min(Math.floor(0.15 * n), 0.15 * 5000);
  const index = new Map<number, number>();
  file.timestamps.forEach((t, i) => index.set(t, i));
  const maxTp = scaledSigmoid(-1);
  const points: Point[] = [];
  let w = 0;
  let cur = -1;
  let curRight = 0;
  let curWidth = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    if (w < file.windows.length && file.timestamps[i] === file.windows[w][0]) {
      cur = w;
      curRight = index.get(file.windows[w][1]) ?? n - 1;
      curWidth = curRight - i + 1;
      w++;
    }
    let weight: number;
    if (cur >= 0) weight = (scaledSigmoid(-(curRight - i + 1) / curWidth) * profile.tp) / maxTp;
    else weight = (prevRight < 0 ? -1 : scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1))) * profile.fp;
    points.push({ score: file.scores[i], weight, window: i < probation ? -2 : cur >= 0 ? windowBase + cur : -1 });
    if (cur >= 0 && i === curRight) {
      prevRight = i;
      prevWidth = curWidth;
      cur = -1;
    }
  }
  return points;
}

/** The best corpus score over all thresholds, raw and normalised (100 perfect, 0 = never alarming). */
export function nabScore(
  files: readonly NabFile[],
  profile: NabProfile,
): { threshold: number; raw: number; normalised: number } {
  const all: Point[] = [];
  let windows = 0;
  for (const file of files) {
    for (const p of sweepPoints(file, profile, windows)) if (p.window !== -2) all.push(p);
    windows += file.windows.length;
  }
  all.sort((a, b) => b.score - a.score);
  const best = new Float64Array(windows).fill(-profile.fn);
  let windowSum = -profile.fn * windows;
  let fp = 0;
  let bestScore = windowSum;
  let bestThreshold = 1.1;
  for (let i = 0; i < all.length; i++) {
    const p = all[i];
    if (p.window >= 0) {
      if (p.weight > best[p.window]) {
        windowSum += p.weight - best[p.window];
        best[p.window] = p.weight;
      }
    } else fp += p.weight;
    // A threshold sits between distinct scores: only evaluate after the last point of a tie.
    if (i + 1 < all.length && all[i + 1].score === p.score) continue;
    if (windowSum + fp > bestScore) {
      bestScore = windowSum + fp;
      bestThreshold = p.score;
    }
  }
  const nullScore = -profile.fn * windows;
  const perfect = profile.tp * windows;
  return {
    threshold: bestThreshold,
    raw: bestScore,
    normalised: (100 * (bestScore - nullScore)) / (perfect - nullScore),
  };
}

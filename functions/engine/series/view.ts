import { RarityHistogram } from './rarity.ts';
import { robustScale, robustZ } from './robust.ts';
import { RollingWindow } from './rolling-window.ts';

const FLOAT32_MAX = 3.4028234663852886e38; // beyond it a float32 is Infinity
const MAX_Z = 1000; // a deviation beyond this says nothing more, and keeps sums finite

/**
 * One way of looking at a series (its values, its steps, its residual from the daily profile, a smoothed version of
 * one of those): a feature per point, judged by its robust z-score against the recent past of the same feature (a
 * short window, and a strided long one: unusual only if unusual against both), and then by how rare such a
 * deviation has been in this view's own history. Views know nothing of each other; the detector takes the most
 * alarming.
 */
export class SeriesView {
  readonly recent: RollingWindow;
  readonly long: RollingWindow;
  readonly rarity: RarityHistogram;
  readonly longRarity: RarityHistogram | undefined;
  seen = 0;
  private longMedian = 0; // cached reads of the long window, 0 scale = to be read (a scale is never 0)
  private longScale = 0;

  constructor(
    window: number,
    private readonly longStride: number,
    rarityDecay: number,
    longRarityDecay = 0,
  ) {
    this.recent = new RollingWindow(window);
    this.long = new RollingWindow(window);
    this.rarity = new RarityHistogram(rarityDecay);
    this.longRarity = longRarityDecay > 0 ? new RarityHistogram(longRarityDecay) : undefined;
  }

  /** The signed robust z-score of `feature` against this view's past, before it is learned. */
  deviation(feature: number): number {
    if (this.recent.size < 16) return 0;
    let z = clampZ(robustZ(this.recent, feature));
    if (this.longStride > 0 && this.long.size >= 32) {
      // The long window changes every `longStride` points: its median and scale are read once per change.
      if (this.longScale === 0) {
        this.longMedian = this.long.quantile(0.5);
        this.longScale = robustScale(this.long);
      }
      const zLong = clampZ((feature - this.longMedian) / this.longScale);
      if (Math.abs(zLong) < Math.abs(z)) z = zLong;
    }
    return z;
  }

  /** Share of this view's history at least as far out as `z` (read before `learn`). */
  tail(z: number, prior: number): number {
    const recent = this.rarity.tail(Math.abs(z), prior);
    // Rare lately is not enough when the series did it regularly before: the larger share of the two wins.
    return this.longRarity ? Math.max(recent, this.longRarity.tail(Math.abs(z), prior)) : recent;
  }

  learn(feature: number, z: number): void {
    // Kept at single precision (7 digits, plenty for quantiles): the saved state holds them exactly in half the bytes.
    const kept = Math.fround(Math.max(-FLOAT32_MAX, Math.min(FLOAT32_MAX, feature)));
    this.recent.push(kept);
    if (this.longStride > 0 && this.seen % this.longStride === 0) {
      this.long.push(kept);
      this.longScale = 0;
    }
    this.rarity.add(Math.abs(z));
    this.longRarity?.add(Math.abs(z));
    this.seen++;
  }
}

function clampZ(z: number): number {
  return z > MAX_Z ? MAX_Z : z < -MAX_Z ? -MAX_Z : z;
}

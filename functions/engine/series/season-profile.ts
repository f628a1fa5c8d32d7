/**
 * The expected value at each time of day (or of week): one exponentially weighted mean per bin, updated only by the
 * points that fall in it. Time-based rather than lag-based, so an irregular or gappy series still lines up, and the
 * state is a few dozen numbers instead of a day of raw points.
 */
export class SeasonProfile {
  readonly bins: number;
  readonly periodMs: number;
  readonly mean: Float64Array;
  readonly seen: Float64Array;
  firstTime = Number.NaN; // the first point's time: a profile speaks only after one whole period

  constructor(
    periodMs: number,
    bins: number,
    private readonly alpha: number,
  ) {
    this.periodMs = periodMs;
    this.bins = bins;
    this.mean = new Float64Array(bins);
    this.seen = new Float64Array(bins);
  }

  bin(time: number): number {
    const phase = ((time % this.periodMs) + this.periodMs) % this.periodMs;
    return Math.min(this.bins - 1, Math.floor((phase / this.periodMs) * this.bins));
  }

  /**
   * The expected value at this time, or NaN while the bin has seen too few points to say, or before a whole period
   * has passed (until then a bin only knows the last minutes of the same period: a level, not a season).
   */
  expected(time: number, minSeen: number, wholePeriod = true): number {
    if (wholePeriod && !(time - this.firstTime >= this.periodMs)) return Number.NaN;
    const b = this.bin(time);
    return this.seen[b] >= minSeen ? this.mean[b] : Number.NaN;
  }

  update(time: number, value: number): void {
    if (Number.isNaN(this.firstTime)) this.firstTime = time;
    const b = this.bin(time);
    // The first points set the mean directly: an EWMA started from 0 would need many days to forget the start.
    const rate = Math.max(this.alpha, 1 / (this.seen[b] + 1));
    this.mean[b] += rate * (value - this.mean[b]);
    this.seen[b]++;
  }
}

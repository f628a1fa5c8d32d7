/**
 * How rare a deviation is in this series' own history: a histogram of past deviations on a log scale with
 * exponentially decaying counts, read as the share of the past that was at least as far out. A detector that only
 * thresholds deviations alarms at every spike of a spiky sensor; this asks "has this series done this before?",
 * which is what HTM's anomaly likelihood and contextOSE's novelty measure are for. 48 numbers of state.
 */
export const RARITY_BINS = 48; // 4 per octave from 1/4 to 2^10 robust sigmas

export class RarityHistogram {
  readonly counts = new Float64Array(RARITY_BINS);
  total = 0;

  constructor(private readonly decay: number) {}

  static bin(deviation: number): number {
    if (!(deviation > 0.25)) return 0;
    return Math.min(RARITY_BINS - 1, Math.floor((Math.log2(deviation) + 2) * 4));
  }

  /** Share of the (decayed) past at least as extreme as `deviation`, with `prior` pseudo-points of "never seen". */
  tail(deviation: number, prior: number): number {
    const b = RarityHistogram.bin(deviation);
    let above = 0;
    for (let i = b; i < RARITY_BINS; i++) above += this.counts[i];
    return (above + prior * 0.01) / (this.total + prior);
  }

  add(deviation: number): void {
    for (let i = 0; i < RARITY_BINS; i++) this.counts[i] *= this.decay;
    this.total = this.total * this.decay + 1;
    this.counts[RarityHistogram.bin(deviation)] += 1;
  }
}

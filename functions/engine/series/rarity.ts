/**
 * How rare a deviation is in this series' own history: a histogram of past deviations on a log scale with
 * exponentially decaying counts, read as the share of the past that was at least as far out. A detector that only
 * thresholds deviations alarms at every spike of a spiky sensor; this asks "has this series done this before?",
 * which is what HTM's anomaly likelihood and contextOSE's novelty measure are for. 48 numbers of state.
 *
 * Decay without touching every bin: each new point weighs 1/decay times the previous one, so old points shrink
 * relative to new ones; the weights are scaled down now and then (at fixed counts of points, so a resumed histogram
 * rescales at the same moments and reads the same shares).
 */
export const RARITY_BINS = 48; // 4 per octave from 1/4 to 2^10 robust sigmas
const RESCALE_EVERY = 4096; // points between rescalings: (1/decay)^4096 stays far from overflow for half-lives >= 50

export class RarityHistogram {
  readonly counts = new Float64Array(RARITY_BINS);
  total = 0;
  weight = 1; // the weight of the next point
  added = 0;
  private readonly growth: number;

  constructor(decay: number) {
    this.growth = 1 / decay;
  }

  static bin(deviation: number): number {
    if (!(deviation > 0.25)) return 0;
    return Math.min(RARITY_BINS - 1, Math.floor((Math.log2(deviation) + 2) * 4));
  }

  /** Share of the (decayed) past at least as extreme as `deviation`, with `prior` pseudo-points of "never seen". */
  tail(deviation: number, prior: number): number {
    const b = RarityHistogram.bin(deviation);
    let above = 0;
    for (let i = b; i < RARITY_BINS; i++) above += this.counts[i];
    // In units of the current weight: a pseudo-point counts as one recent point.
    const scale = this.weight;
    return (above + prior * 0.01 * scale) / (this.total + prior * scale);
  }

  add(deviation: number): void {
    this.counts[RarityHistogram.bin(deviation)] += this.weight;
    this.total += this.weight;
    this.weight *= this.growth;
    this.added++;
    if (this.added % RESCALE_EVERY === 0) {
      const s = 1 / this.weight;
      for (let i = 0; i < RARITY_BINS; i++) this.counts[i] *= s;
      this.total *= s;
      this.weight = 1;
    }
  }
}

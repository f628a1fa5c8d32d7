/**
 * The last `capacity` values in arrival order (a ring) and the same values sorted, so that the median and any
 * quantile are O(1) reads and an update is a binary search and one memmove of at most `capacity` doubles. Only the
 * ring is state: the sorted copy is rebuilt from it, which gives the same array and so the same answers.
 */
export class RollingWindow {
  readonly capacity: number;
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0; // where the next value goes
  private count = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(value: number): void {
    if (this.count === this.capacity) {
      const old = this.ring[this.head];
      // Replace the oldest value by the new one in one shift: only the values between the two positions move.
      const sorted = this.sorted;
      let i = this.lowerBound(old);
      if (value > old) {
        while (i + 1 < this.count && sorted[i + 1] < value) {
          sorted[i] = sorted[i + 1];
          i++;
        }
      } else {
        while (i > 0 && sorted[i - 1] > value) {
          sorted[i] = sorted[i - 1];
          i--;
        }
      }
      sorted[i] = value;
      this.ring[this.head] = value;
      this.head = (this.head + 1) % this.capacity;
      return;
    }
    this.ring[this.head] = value;
    this.head = (this.head + 1) % this.capacity;
    const at = this.lowerBound(value);
    this.sorted.copyWithin(at + 1, at, this.count);
    this.sorted[at] = value;
    this.count++;
  }

  /** The q-quantile (0..1) by linear interpolation between order statistics; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const pos = q * (this.count - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, this.count - 1);
    return this.sorted[lo] + (this.sorted[hi] - this.sorted[lo]) * (pos - lo);
  }

  get min(): number {
    return this.count === 0 ? 0 : this.sorted[0];
  }

  get max(): number {
    return this.count === 0 ? 0 : this.sorted[this.count - 1];
  }

  /** The value pushed `back` steps ago (0 = the latest). */
  recent(back: number): number {
    return this.ring[(this.head - 1 - back + this.capacity * 2) % this.capacity];
  }

  /** The values in arrival order, oldest first: all a window needs to be rebuilt. */
  values(): Float64Array {
    const out = new Float64Array(this.count);
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) out[i] = this.ring[(start + i) % this.capacity];
    return out;
  }

  static from(capacity: number, values: ArrayLike<number>): RollingWindow {
    const window = new RollingWindow(capacity);
    for (let i = Math.max(0, values.length - capacity); i < values.length; i++) window.push(values[i]);
    return window;
  }

  private lowerBound(value: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

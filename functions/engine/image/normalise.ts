/**
 * Writes HWC RGB bytes into an NCHW float32 batch at a given slot, normalised as (x / 255 - mean) / std.
 * A per-channel lookup table turns the per-pixel work into one load and one store.
 *
 * With `eachImage`, mean and std are instead every image's own, one pair over all three channels (so a colour keeps
 * its balance between channels): the input reaches the backbone with zero mean and unit spread however bright or
 * contrasted the photo was, which takes lighting that drifts between photos out of the features.
 */
export class ImageNormaliser {
  private readonly tables: Float32Array[];

  constructor(
    mean: readonly number[],
    std: readonly number[],
    private readonly eachImage = false,
  ) {
    this.tables = [0, 1, 2].map((c) => {
      const table = new Float32Array(256);
      for (let v = 0; v < 256; v++) table[v] = (v / 255 - mean[c]) / std[c];
      return table;
    });
  }

  /** Fills batch[slot] (shape [3, side, side]) from rgb (side * side * 3 bytes). */
  writeInto(rgb: Uint8Array, batch: Float32Array, slot: number, side: number): void {
    const plane = side * side;
    if (rgb.length !== plane * 3) throw new RangeError(`expected ${plane * 3} bytes of RGB, got ${rgb.length}`);
    const base = slot * 3 * plane;
    const [r, g, b] = this.eachImage ? imageOwnTables(rgb) : this.tables;
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      batch[base + i] = r[rgb[p]];
      batch[base + plane + i] = g[rgb[p + 1]];
      batch[base + 2 * plane + i] = b[rgb[p + 2]];
    }
  }
}

/**
 * A flat image or channel (one grey level) would divide by zero; one level is the least spread a standard deviation
 * stands for (here in byte units; input-statistics.ts reads it in [0, 1] units).
 */
export const MIN_SPREAD_LEVELS = 1;

/** One table for all three channels: (v - mean) / sd over every byte of the image, from its histogram (exact sums). */
function imageOwnTables(rgb: Uint8Array): Float32Array[] {
  const histogram = new Float64Array(256);
  for (let p = 0; p < rgb.length; p++) histogram[rgb[p]]++;
  let sum = 0;
  let squares = 0;
  for (let v = 0; v < 256; v++) {
    sum += histogram[v] * v;
    squares += histogram[v] * v * v;
  }
  const mean = sum / rgb.length;
  const sd = Math.max(MIN_SPREAD_LEVELS, Math.sqrt(Math.max(0, squares / rgb.length - mean * mean)));
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = (v - mean) / sd;
  return [table, table, table];
}

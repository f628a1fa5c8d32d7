/**
 * Writes HWC RGB bytes into an NCHW float32 batch at a given slot, normalised as (x / 255 - mean) / std.
 * A per-channel lookup table turns the per-pixel work into one load and one store.
 */
export class ImageNormaliser {
  private readonly tables: Float32Array[];

  constructor(mean: readonly number[], std: readonly number[]) {
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
    const [r, g, b] = this.tables;
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      batch[base + i] = r[rgb[p]];
      batch[base + plane + i] = g[rgb[p + 1]];
      batch[base + 2 * plane + i] = b[rgb[p + 2]];
    }
  }
}

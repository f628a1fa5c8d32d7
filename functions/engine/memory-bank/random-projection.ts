import { seededRandom } from '../math/random.ts';

/**
 * Sparse random projection (Li, Hastie and Church, 2006; what anomalib uses before its coreset): each output
 * dimension sums a random ~1/sqrt(D) share of the inputs with signs, scaled so that distances are kept on average.
 * Returns the input itself when it has no more dimensions than asked: projecting would only add noise.
 */
export function sparseRandomProjection(
  data: Float32Array,
  rows: number,
  dims: number,
  targetDims: number,
  seed: number,
): { data: Float32Array; dims: number } {
  if (dims <= targetDims) return { data, dims };
  const random = seededRandom(seed);
  const density = 1 / Math.sqrt(dims);
  const scale = Math.sqrt(1 / (density * targetDims));
  // For each output dimension, the input indices it reads and their signed weights.
  const taps: { index: Int32Array; weight: Float32Array }[] = [];
  for (let o = 0; o < targetDims; o++) {
    const index: number[] = [];
    const weight: number[] = [];
    for (let i = 0; i < dims; i++) {
      const u = random();
      if (u < density) {
        index.push(i);
        weight.push(u < density / 2 ? scale : -scale);
      }
    }
    taps.push({ index: Int32Array.from(index), weight: Float32Array.from(weight) });
  }
  const out = new Float32Array(rows * targetDims);
  for (let r = 0; r < rows; r++) {
    const src = r * dims;
    const dst = r * targetDims;
    for (let o = 0; o < targetDims; o++) {
      const { index, weight } = taps[o];
      let s = 0;
      for (let t = 0; t < index.length; t++) s += data[src + index[t]] * weight[t];
      out[dst + o] = s;
    }
  }
  return { data: out, dims: targetDims };
}

/** Small reference helpers shared by the tests of the numeric code. */

/** rows x dims values in [-scale, scale), from the given random source. */
export function randomMatrix(random: () => number, rows: number, dims: number, scale = 1): Float32Array {
  return Float32Array.from({ length: rows * dims }, () => (random() * 2 - 1) * scale);
}

/** Squared Euclidean distance between row i of a and row j of b (dims columns each). */
export function squaredDistance(a: Float32Array, i: number, b: Float32Array, j: number, dims: number): number {
  let s = 0;
  for (let d = 0; d < dims; d++) {
    const diff = a[i * dims + d] - b[j * dims + d];
    s += diff * diff;
  }
  return s;
}

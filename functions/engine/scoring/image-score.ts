/**
 * anomalib's PatchCore image score: the largest patch distance, re-weighted by how unusual that patch's nearest
 * bank row is among its own neighbours (Roth et al. 2022, eq. 7). A test patch close to a dense part of the bank
 * keeps less of its score than one whose nearest normal patch is itself an outlier.
 */
export interface ImageScore {
  /** The re-weighted score. */
  score: number;
  /** The largest patch distance, before re-weighting. */
  maxDistance: number;
  /** Patch index of that distance. */
  patch: number;
}

/** Squared distance between row a of x and row b of y (dims columns). */
function squaredDistance(x: Float32Array, a: number, y: Float32Array, b: number, dims: number): number {
  let s = 0;
  for (let i = a * dims, j = b * dims, end = i + dims; i < end; i++, j++) {
    const d = x[i] - y[j];
    s += d * d;
  }
  return s;
}

/** Indices of the k bank rows nearest to bank row `row` (the row itself included, as anomalib's knn does). */
function nearestBankRows(bank: Float32Array, rows: number, dims: number, row: number, k: number): Int32Array {
  const n = Math.min(k, rows);
  const best = new Float64Array(n).fill(Infinity);
  const bestIndex = new Int32Array(n).fill(-1);
  for (let r = 0; r < rows; r++) {
    const d = squaredDistance(bank, row, bank, r, dims);
    if (d >= best[n - 1]) continue;
    let i = n - 1; // insertion into the short sorted list
    while (i > 0 && best[i - 1] > d) {
      best[i] = best[i - 1];
      bestIndex[i] = bestIndex[i - 1];
      i--;
    }
    best[i] = d;
    bestIndex[i] = r;
  }
  return bestIndex;
}

/** The first patch with the largest distance. */
export function maxPatchOf(distances: Float32Array): number {
  let patch = 0;
  for (let i = 1; i < distances.length; i++) if (distances[i] > distances[patch]) patch = i;
  return patch;
}

/**
 * @param distances patch distances of one image (patches)
 * @param nearest nearest bank row of each patch
 * @param features the image's patch features [patches, dims]
 * @param found what the caller knows already: the patch with the largest distance (an approximate search reports it:
 *   it may tie), and the `neighbours` nearest bank rows of that patch's nearest row, nearest first (NearestBankRows
 *   finds them on onnxruntime; else a scan here)
 */
export function reweightedImageScore(
  distances: Float32Array,
  nearest: Int32Array,
  features: Float32Array,
  bank: Float32Array,
  rows: number,
  dims: number,
  neighbours: number,
  found: { maxPatch?: number; support?: Int32Array } = {},
): ImageScore {
  const patch = found.maxPatch ?? maxPatchOf(distances);
  const maxDistance = distances[patch];
  if (neighbours <= 1 || rows <= 1) return { score: maxDistance, maxDistance, patch };
  const support = found.support ?? nearestBankRows(bank, rows, dims, nearest[patch], neighbours);
  // weight = 1 - softmax(d)[0], d = distances from the test patch to the support rows (the first is its nearest).
  const d = Array.from(support, (r) => Math.sqrt(squaredDistance(features, patch, bank, r, dims)));
  const top = Math.max(...d);
  let sum = 0;
  for (const v of d) sum += Math.exp(v - top);
  const weight = 1 - Math.exp(d[0] - top) / sum;
  return { score: weight * maxDistance, maxDistance, patch };
}

import { seededRandom } from '../math/random.ts';
import { MinimumDistance } from '../search/nearest-neighbour-search.ts';

export interface CoresetOptions {
  /** Number of rows to select. */
  size: number;
  seed?: number;
  /** Candidates examined per round (see greedyCoreset). */
  candidates?: number;
  /** Called after each round with (selected, size). */
  onProgress?: (selected: number, size: number) => void;
  /**
   * Each row's distance to rows selected before (an existing memory bank): the selection then continues that bank's
   * traversal, starting from the row farthest from it, instead of from a random row.
   */
  initialDistances?: Float64Array;
}

/** Euclidean distance between row a and row b of x (dims columns). */
function distance(x: Float32Array, a: number, b: number, dims: number): number {
  let s0 = 0;
  let s1 = 0;
  let i = a * dims;
  let j = b * dims;
  const end = i + dims - (dims & 1);
  for (; i < end; i += 2, j += 2) {
    const d0 = x[i] - x[j];
    const d1 = x[i + 1] - x[j + 1];
    s0 += d0 * d0;
    s1 += d1 * d1;
  }
  if (dims & 1) s0 += (x[i] - x[j]) ** 2;
  return Math.sqrt(s0 + s1);
}

/** The (k+1)-th largest value of `values` (k < length), by quickselect on a copy. */
function kthLargest(values: Float64Array, k: number, scratch: Float64Array): number {
  scratch.set(values);
  let lo = 0;
  let hi = scratch.length - 1;
  while (lo < hi) {
    const pivot = scratch[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (scratch[i] > pivot) i++;
      while (scratch[j] < pivot) j--;
      if (i <= j) {
        const t = scratch[i];
        scratch[i++] = scratch[j];
        scratch[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return scratch[k];
}

const UPDATE_CHUNK_ROWS = 16_384;

/**
 * Greedy k-center selection (farthest-point traversal, PatchCore's coreset): start from a random row, then take the
 * row farthest from everything taken so far, until `size` rows are taken.
 *
 * The plain algorithm costs rows x size x dims in vector-at-a-time work, minutes for 200 images. This computes the
 * same selection in rounds. Each round takes the C rows now farthest from the coreset (the candidates) and the
 * largest distance tau among the rest. It then keeps picking the farthest candidate, updating only the candidates'
 * distances, while that candidate is at least tau away: the other rows' distances can only have fallen below tau, so
 * the pick is the global farthest, as in the plain algorithm. At the end of the round all rows are updated against
 * the round's picks at once: a matrix product on onnxruntime rather than one pass per pick.
 */
export async function greedyCoreset(
  points: Float32Array,
  rows: number,
  dims: number,
  options: CoresetOptions,
): Promise<Int32Array> {
  const size = Math.min(options.size, rows);
  const random = seededRandom(options.seed ?? 0);
  const candidateCount = Math.min(options.candidates ?? 1024, rows - 1);
  const minimum = await MinimumDistance.create(dims, { spinning: true }); // the only session running meanwhile
  try {
    const minDist = options.initialDistances ? Float64Array.from(options.initialDistances) : new Float64Array(rows);
    if (!options.initialDistances) minDist.fill(Infinity);
    const scratch = new Float64Array(rows);
    const selected = new Int32Array(size);
    let count = 0;
    let first = Math.floor(random() * rows);
    if (options.initialDistances) for (let p = 0; p < rows; p++) if (minDist[p] > minDist[first]) first = p;
    let pending: number[] = [first];
    const candidates = new Int32Array(candidateCount + 1);
    const current = new Float64Array(candidateCount + 1);

    while (true) {
      // Bring every row's distance up to date with the picks of the last round.
      for (const p of pending) selected[count++] = p;
      await updateDistances(minimum, points, rows, dims, pending, minDist);
      options.onProgress?.(count, size);
      if (count >= size) break;

      // Candidates: rows strictly farther than the (C+1)-th largest distance tau.
      const tau = candidateCount < rows ? kthLargest(minDist, candidateCount, scratch) : -1;
      let n = 0;
      for (let p = 0; p < rows && n < candidateCount; p++) {
        if (minDist[p] > tau) {
          candidates[n] = p;
          current[n++] = minDist[p];
        }
      }
      if (n === 0) {
        // Ties at the top: the farthest row alone.
        let best = 0;
        for (let p = 1; p < rows; p++) if (minDist[p] > minDist[best]) best = p;
        candidates[0] = best;
        current[0] = minDist[best];
        n = 1;
      }

      pending = [];
      while (count + pending.length < size) {
        let best = -1;
        for (let i = 0; i < n; i++) if (current[i] >= 0 && (best < 0 || current[i] > current[best])) best = i;
        if (best < 0 || current[best] < tau || current[best] === 0) break;
        const pick = candidates[best];
        pending.push(pick);
        current[best] = -1; // taken
        for (let i = 0; i < n; i++) {
          if (current[i] <= 0) continue;
          const d = distance(points, candidates[i], pick, dims);
          if (d < current[i]) current[i] = d;
        }
      }
      if (pending.length === 0) break; // every row coincides with a taken one
    }
    return selected.slice(0, count);
  } finally {
    await minimum.release();
  }
}

async function updateDistances(
  minimum: MinimumDistance,
  points: Float32Array,
  rows: number,
  dims: number,
  picks: number[],
  minDist: Float64Array,
): Promise<void> {
  const centers = new Float32Array(picks.length * dims);
  picks.forEach((p, i) => centers.set(points.subarray(p * dims, (p + 1) * dims), i * dims));
  for (let start = 0; start < rows; start += UPDATE_CHUNK_ROWS) {
    const end = Math.min(rows, start + UPDATE_CHUNK_ROWS);
    const d = await minimum.run(points.subarray(start * dims, end * dims), centers);
    for (let p = start; p < end; p++) if (d[p - start] < minDist[p]) minDist[p] = d[p - start];
  }
  for (const p of picks) minDist[p] = 0;
}

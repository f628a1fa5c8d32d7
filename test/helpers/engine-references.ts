/**
 * Plain reference implementations the engine's fast code is tested against (test oracles): slow, obviously right,
 * and used by no production code.
 */
import { seededRandom } from '../../functions/engine/math/random.ts';
import { auroc } from '../../functions/engine/math/auroc.ts';
import type { CoresetOptions } from '../../functions/engine/memory-bank/greedy-coreset.ts';
import type { NearestNeighbours } from '../../functions/engine/search/nearest-neighbour-search.ts';
import { squaredDistance } from './matrix.ts';

/** The plain O(rows x size x dims) greedy coreset (farthest point first), as greedyCoreset must select. */
export function greedyCoresetReference(
  points: Float32Array,
  rows: number,
  dims: number,
  options: CoresetOptions,
): Int32Array {
  const size = Math.min(options.size, rows);
  const random = seededRandom(options.seed ?? 0);
  const minDist = options.initialDistances
    ? Float64Array.from(options.initialDistances)
    : new Float64Array(rows).fill(Infinity);
  const centers: number[] = [];
  let z = Math.floor(random() * rows);
  // Continuing an existing bank: the first pick is the row farthest from it.
  if (options.initialDistances) z = minDist.reduce((best, d, p) => (d > minDist[best] ? p : best), 0);
  while (centers.length < size) {
    centers.push(z);
    let next = -1;
    let far = -1;
    for (let p = 0; p < rows; p++) {
      const d = Math.sqrt(squaredDistance(points, p, points, z, dims));
      if (d < minDist[p]) minDist[p] = d;
      if (minDist[p] > far) {
        far = minDist[p];
        next = p;
      }
    }
    if (far === 0) break;
    z = next;
  }
  return Int32Array.from(centers);
}

/** Each query's nearest bank row and its Euclidean distance, by trying every row. */
export function bruteForceNearest(queries: Float32Array, bank: Float32Array, dims: number): NearestNeighbours {
  const n = queries.length / dims;
  const rows = bank.length / dims;
  const distances = new Float32Array(n);
  const indices = new Int32Array(n);
  for (let q = 0; q < n; q++) {
    let best = Infinity;
    let bestIndex = -1;
    for (let r = 0; r < rows; r++) {
      const s = squaredDistance(queries, q, bank, r, dims);
      if (s < best) {
        best = s;
        bestIndex = r;
      }
    }
    distances[q] = Math.sqrt(best);
    indices[q] = bestIndex;
  }
  return { distances, indices };
}

/** AUROC of scores split by a boolean (or 0/1) label. */
export function aurocFromLabels(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>): number {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < scores.length; i++) (labels[i] ? pos : neg).push(scores[i]);
  return auroc(pos, neg);
}

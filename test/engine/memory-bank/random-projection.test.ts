import { randomMatrix as randomRows, squaredDistance as squaredBetween } from '../../helpers/matrix.ts';
import { describe, expect, it } from 'vitest';
import { sparseRandomProjection } from '../../../functions/engine/memory-bank/random-projection.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

const randomMatrix = (seed: number, rows: number, dims: number): Float32Array =>
  randomRows(seededRandom(seed), rows, dims);
const squaredDistance = (x: Float32Array, a: number, b: number, dims: number): number =>
  squaredBetween(x, a, x, b, dims);

describe('sparseRandomProjection', () => {
  it('returns the input array itself when dims <= target', () => {
    const data = randomMatrix(61, 10, 16);
    for (const target of [16, 32]) {
      const out = sparseRandomProjection(data, 10, 16, target, 1);
      expect(out.data).toBe(data);
      expect(out.dims).toBe(16);
    }
  });

  it('has the asked shape and is deterministic for a seed', () => {
    const data = randomMatrix(62, 20, 256);
    const a = sparseRandomProjection(data, 20, 256, 32, 5);
    const b = sparseRandomProjection(data, 20, 256, 32, 5);
    const c = sparseRandomProjection(data, 20, 256, 32, 6);
    expect(a.dims).toBe(32);
    expect(a.data.length).toBe(20 * 32);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
  });

  it('is linear: the projection of a sum is the sum of projections, of zero is zero', () => {
    const dims = 100;
    const data = randomMatrix(63, 3, dims);
    for (let d = 0; d < dims; d++) data[2 * dims + d] = data[d] + data[dims + d];
    const { data: p, dims: t } = sparseRandomProjection(data, 3, dims, 20, 9);
    for (let o = 0; o < t; o++) expect(p[2 * t + o]).toBeCloseTo(p[o] + p[t + o], 4);
    const zero = sparseRandomProjection(new Float32Array(2 * dims), 2, dims, 20, 9);
    expect(zero.data.every((v) => v === 0)).toBe(true);
  });

  it('preserves pairwise squared distances on average (512 -> 128)', () => {
    const rows = 400;
    const dims = 512;
    const target = 128;
    const data = randomMatrix(64, rows, dims);
    const { data: projected } = sparseRandomProjection(data, rows, dims, target, 3);
    const random = seededRandom(65);
    let sum = 0;
    const pairs = 2000;
    let worst = 0;
    for (let k = 0; k < pairs; k++) {
      const a = Math.floor(random() * rows);
      let b = Math.floor(random() * rows);
      if (b === a) b = (a + 1) % rows;
      const ratio = squaredDistance(projected, a, b, target) / squaredDistance(data, a, b, dims);
      sum += ratio;
      worst = Math.max(worst, Math.abs(ratio - 1));
    }
    const mean = sum / pairs;
    expect(mean).toBeGreaterThan(0.85);
    expect(mean).toBeLessThan(1.15);
    // Johnson-Lindenstrauss at 128 dims: individual pairs stay within a factor of about 2.
    expect(worst).toBeLessThan(1);
  });

  it('preserves distances on average across seeds (scale is right, not just lucky)', () => {
    const rows = 50;
    const dims = 400;
    const data = randomMatrix(66, rows, dims);
    let sum = 0;
    let n = 0;
    for (let seed = 0; seed < 10; seed++) {
      const { data: p, dims: t } = sparseRandomProjection(data, rows, dims, 64, seed);
      for (let a = 0; a < rows; a += 5) {
        for (let b = a + 1; b < rows; b += 7) {
          sum += squaredDistance(p, a, b, t) / squaredDistance(data, a, b, dims);
          n++;
        }
      }
    }
    expect(sum / n).toBeGreaterThan(0.9);
    expect(sum / n).toBeLessThan(1.1);
  });
});

import { describe, expect, it } from 'vitest';
import { aupro, RegionOverlapCurve } from '../../../functions/engine/math/aupro.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

interface Case {
  maps: Float32Array[];
  truths: Uint8Array[];
  width: number;
  height: number;
}

/** 4-or-diagonal connected regions of one mask by flood fill: the label of each pixel (0 background). */
function floodRegions(mask: Uint8Array, width: number, height: number): { labels: Int32Array; count: number } {
  const labels = new Int32Array(mask.length);
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    labels[start] = ++count;
    const stack = [start];
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width;
      const y = Math.floor(p / width);
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const q = ny * width + nx;
          if (mask[q] && !labels[q]) {
            labels[q] = count;
            stack.push(q);
          }
        }
    }
  }
  return { labels, count };
}

/**
 * The definition, threshold by threshold: at every distinct score t (high to low) the FPR over all normal pixels and
 * the mean over regions of the share of the region at or above t; trapezoids up to the limit, interpolated there.
 */
function bruteForceAupro(c: Case, limit: number): number {
  const regions: { image: number; pixels: number[] }[] = [];
  c.truths.forEach((truth, image) => {
    const { labels, count } = floodRegions(truth, c.width, c.height);
    for (let r = 1; r <= count; r++) regions.push({ image, pixels: [...labels.keys()].filter((p) => labels[p] === r) });
  });
  const normals: number[] = [];
  c.maps.forEach((m, i) => m.forEach((v, p) => !c.truths[i][p] && normals.push(v)));
  const thresholds = [...new Set(c.maps.flatMap((m) => [...m]))].sort((a, b) => b - a);
  const points: [number, number][] = [[0, 0]];
  for (const t of thresholds) {
    const fpr = normals.filter((v) => v >= t).length / normals.length;
    const pro =
      regions.reduce((a, r) => a + r.pixels.filter((p) => c.maps[r.image][p] >= t).length / r.pixels.length, 0) /
      regions.length;
    points.push([fpr, pro]);
  }
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    const [f0, p0] = points[i - 1];
    const [f1, p1] = points[i];
    if (f1 >= limit) {
      const cut = f1 > f0 ? p0 + ((p1 - p0) * (limit - f0)) / (f1 - f0) : p1;
      return (area + ((limit - f0) * (p0 + cut)) / 2) / limit;
    }
    area += ((f1 - f0) * (p0 + p1)) / 2;
  }
  return area / limit;
}

function randomCase(seed: number, quantised: boolean): Case {
  const random = seededRandom(seed);
  const width = 12;
  const height = 9;
  const maps: Float32Array[] = [];
  const truths: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    const truth = new Uint8Array(width * height);
    if (i > 0) {
      // One to three rectangles of different sizes (a small region weighs as much as a large one).
      for (let r = 0; r < i; r++) {
        const x0 = Math.floor(random() * (width - 3));
        const y0 = Math.floor(random() * (height - 3));
        const w = 1 + Math.floor(random() * 4);
        const h = 1 + Math.floor(random() * 3);
        for (let y = y0; y < Math.min(height, y0 + h); y++)
          for (let x = x0; x < Math.min(width, x0 + w); x++) truth[y * width + x] = 1;
      }
    }
    const map = Float32Array.from(truth, (t) => {
      const v = random() + (t ? 0.6 * random() : 0);
      return quantised ? Math.round(v * 8) / 8 : v; // ties between normal and defect pixels
    });
    maps.push(map);
    truths.push(truth);
  }
  return { maps, truths, width, height };
}

describe('AUPRO', () => {
  for (const [seed, quantised] of [
    [1, false],
    [2, false],
    [3, true],
    [4, true],
  ] as const) {
    it(`equals the threshold-by-threshold definition (seed ${seed}${quantised ? ', tied scores' : ''})`, () => {
      const c = randomCase(seed, quantised);
      const curve = new RegionOverlapCurve();
      c.maps.forEach((m, i) => curve.add(m, c.truths[i], c.width, c.height));
      for (const limit of [0.05, 0.3, 1]) expect(curve.area(limit)).toBeCloseTo(bruteForceAupro(c, limit), 6);
    });
  }

  it('is 1 for a perfect separation and about limit / 2 for scores that ignore the defect', () => {
    const negatives = Float32Array.from({ length: 1000 }, (_, i) => i / 1000);
    expect(aupro(Float32Array.from([2, 3]), Float32Array.from([1, 1]), 2, negatives)).toBe(1);
    // Defects scored like the normals: PRO = FPR, so the area is 0.3^2 / 2, normalised 0.15.
    const positives = Float32Array.from({ length: 1000 }, (_, i) => (i + 0.5) / 1000);
    const weights = new Float32Array(1000).fill(1 / 1000);
    expect(aupro(positives, weights, 1, negatives)).toBeCloseTo(0.15, 2);
  });

  it('is NaN without ground-truth regions or normal pixels', () => {
    expect(aupro(new Float32Array(0), new Float32Array(0), 0, Float32Array.from([1]))).toBeNaN();
    expect(aupro(Float32Array.from([1]), Float32Array.from([1]), 1, new Float32Array(0))).toBeNaN();
  });
});

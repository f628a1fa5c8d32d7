import { describe, expect, it } from 'vitest';
import { resizeBilinear } from '../../../functions/engine/math/resize-bilinear.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

function expectClose(got: Float32Array, expected: number[], digits = 6): void {
  expect(got.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i], digits);
}

describe('resizeBilinear', () => {
  it('matches PyTorch bilinear (align_corners=False) for a 2x2 -> 4x4 upscale', () => {
    const got = resizeBilinear(Float32Array.from([0, 1, 2, 3]), 2, 2, 4, 4);
    // prettier-ignore
    expectClose(got, [
      0, 0.25, 0.75, 1,
      0.5, 0.75, 1.25, 1.5,
      1.5, 1.75, 2.25, 2.5,
      2, 2.25, 2.75, 3,
    ]);
  });

  it('matches PyTorch for a non-square 3x2 -> 6x3 upscale', () => {
    // Columns: scale 0.5, source x = [-0.25->0, 0.25, 0.75, 1.25, 1.75, 2.25->2 (clamped)];
    // rows: scale 2/3, source y = [-1/6 -> 0, 0.5, 7/6 -> 1 (clamped)].
    const src = Float32Array.from([0, 1, 2, 10, 11, 12]);
    const row = (base: number) => [0, 0.25, 0.75, 1.25, 1.75, 2].map((v) => v + base);
    expectClose(resizeBilinear(src, 3, 2, 6, 3), [...row(0), ...row(5), ...row(10)]);
  });

  it('matches PyTorch for a 4x4 -> 2x2 downscale (average of the centre 2x2 blocks)', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i);
    // source coordinates 0.5 and 2.5 in both axes: mean of each 2x2 block
    expectClose(resizeBilinear(src, 4, 4, 2, 2), [2.5, 4.5, 10.5, 12.5]);
  });

  it('is the identity when sizes are equal', () => {
    const random = seededRandom(21);
    const src = Float32Array.from({ length: 7 * 5 }, () => random() * 100 - 50);
    const got = resizeBilinear(src, 7, 5, 7, 5);
    for (let i = 0; i < src.length; i++) expect(got[i]).toBe(src[i]);
  });

  it('keeps a constant map constant at any size', () => {
    const src = new Float32Array(6 * 4).fill(-1.5);
    for (const [w, h] of [
      [13, 9],
      [3, 2],
      [1, 1],
      [24, 24],
    ]) {
      const got = resizeBilinear(src, 6, 4, w, h);
      expect(got.length).toBe(w * h);
      for (const v of got) expect(v).toBeCloseTo(-1.5, 6);
    }
  });

  it('reproduces a linear ramp in the interior', () => {
    // f(x, y) = 2x + 3y on an 8x8 grid; bilinear is exact for linear functions away from the clamped border.
    const src = Float32Array.from({ length: 64 }, (_, i) => 2 * (i % 8) + 3 * Math.floor(i / 8));
    const dst = 20;
    const got = resizeBilinear(src, 8, 8, dst, dst);
    const s = 8 / dst;
    for (let y = 0; y < dst; y++) {
      for (let x = 0; x < dst; x++) {
        const fx = (x + 0.5) * s - 0.5;
        const fy = (y + 0.5) * s - 0.5;
        if (fx < 0 || fy < 0 || fx > 7 || fy > 7) continue;
        expect(got[y * dst + x]).toBeCloseTo(2 * fx + 3 * fy, 4);
      }
    }
  });

  it('writes into the given output', () => {
    const out = new Float32Array(16);
    expect(resizeBilinear(Float32Array.from([0, 1, 2, 3]), 2, 2, 4, 4, out)).toBe(out);
    expect(out[5]).toBeCloseTo(0.75, 6);
  });
});

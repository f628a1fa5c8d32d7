import { describe, expect, it } from 'vitest';
import { gaussianBlur, gaussianKernel } from '../../../functions/engine/math/gaussian-blur.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

/** PyTorch 'reflect' padding index (no edge repeat), by repeated reflection. */
function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
  }
  return i;
}

/** Direct 2-D convolution with the outer-product kernel, in float64. */
function naiveBlur(src: Float32Array, w: number, h: number, sigma: number): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const k: number[] = [];
  for (let i = -radius; i <= radius; i++) k.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const total = k.reduce((a, b) => a + b, 0);
  const kernel = k.map((v) => v / total);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = -radius; dy <= radius; dy++) {
        const yy = reflectIndex(y + dy, h);
        for (let dx = -radius; dx <= radius; dx++) {
          const xx = reflectIndex(x + dx, w);
          s += src[yy * w + xx] * kernel[dy + radius] * kernel[dx + radius];
        }
      }
      out[y * w + x] = s;
    }
  }
  return out;
}

describe('gaussianKernel', () => {
  it('sigma 4 gives 33 taps summing to 1, symmetric, peaked at the centre', () => {
    const k = gaussianKernel(4);
    expect(k.length).toBe(33);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    for (let i = 0; i < 16; i++) {
      expect(k[i]).toBe(k[32 - i]);
      expect(k[i]).toBeLessThan(k[i + 1]);
    }
    // exp(-i^2 / 32) relative to the centre
    expect(k[16 + 4] / k[16]).toBeCloseTo(Math.exp(-16 / 32), 6);
  });

  it('has radius floor(4 sigma + 0.5)', () => {
    expect(gaussianKernel(1.5).length).toBe(2 * 6 + 1);
    expect(gaussianKernel(1).length).toBe(9);
    expect(gaussianKernel(0.1).length).toBe(1);
    expect(gaussianKernel(0.125).length).toBe(3); // floor(1.0) = 1
  });
});

describe('gaussianBlur', () => {
  it('matches a naive 2-D convolution with reflect padding (20x13, sigma 1.5)', () => {
    const random = seededRandom(11);
    const w = 20;
    const h = 13;
    const src = Float32Array.from({ length: w * h }, () => random() * 10 - 3);
    const got = gaussianBlur(src, w, h, 1.5);
    const expected = naiveBlur(src, w, h, 1.5);
    expect(got.length).toBe(w * h);
    for (let i = 0; i < w * h; i++) expect(got[i]).toBeCloseTo(expected[i], 4);
  });

  it('matches the naive convolution when the kernel is wider than the map (multiple reflections)', () => {
    const random = seededRandom(12);
    const w = 5;
    const h = 4;
    const src = Float32Array.from({ length: w * h }, () => random());
    const got = gaussianBlur(src, w, h, 2); // radius 8 > width
    const expected = naiveBlur(src, w, h, 2);
    for (let i = 0; i < w * h; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
  });

  it('handles a single-pixel-wide map', () => {
    const src = Float32Array.from([1, 2, 3, 4, 5, 6, 7]);
    const got = gaussianBlur(src, 1, 7, 1);
    const expected = naiveBlur(src, 1, 7, 1);
    for (let i = 0; i < 7; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
  });

  it('keeps a constant map constant', () => {
    const src = new Float32Array(17 * 9).fill(3.25);
    const got = gaussianBlur(src, 17, 9, 4);
    for (const v of got) expect(v).toBeCloseTo(3.25, 5);
  });

  it('keeps the total mass of an interior impulse and spreads it symmetrically', () => {
    const w = 41;
    const h = 41;
    const src = new Float32Array(w * h);
    src[20 * w + 20] = 1;
    const got = gaussianBlur(src, w, h, 2);
    expect(got.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(got[20 * w + 23]).toBeCloseTo(got[20 * w + 17], 7);
    expect(got[23 * w + 20]).toBeCloseTo(got[20 * w + 23], 7);
    const k = gaussianKernel(2);
    expect(got[20 * w + 20]).toBeCloseTo(k[8] * k[8], 7);
  });

  it('copies the input for sigma 0 and writes into the given output', () => {
    const src = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const out = new Float32Array(6);
    const got = gaussianBlur(src, 3, 2, 0, out);
    expect(got).toBe(out);
    expect(Array.from(got)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(got).not.toBe(src);
    const into = new Float32Array(6);
    expect(gaussianBlur(src, 3, 2, 1, into)).toBe(into);
  });
});

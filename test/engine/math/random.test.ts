import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../functions/engine/math/random.ts';

describe('seededRandom', () => {
  it('is deterministic for a seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    for (let i = 0; i < 1000; i++) expect(a()).toBe(b());
  });

  it('differs between seeds', () => {
    const a = seededRandom(1);
    const b = seededRandom(2);
    const xs = Array.from({ length: 20 }, () => a());
    const ys = Array.from({ length: 20 }, () => b());
    expect(xs).not.toEqual(ys);
  });

  it('returns values in [0, 1), spread roughly uniformly', () => {
    const random = seededRandom(7);
    const bins = new Array(10).fill(0);
    const n = 100_000;
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const v = random();
      if (!(v >= 0 && v < 1)) outside++;
      bins[Math.floor(v * 10)]++;
      sum += v;
    }
    expect(outside).toBe(0);
    expect(sum / n).toBeGreaterThan(0.49);
    expect(sum / n).toBeLessThan(0.51);
    for (const c of bins) {
      expect(c).toBeGreaterThan((n / 10) * 0.95);
      expect(c).toBeLessThan((n / 10) * 1.05);
    }
  });

  it('treats seeds modulo 2^32 and accepts 0', () => {
    const a = seededRandom(5);
    const b = seededRandom(5 + 2 ** 32);
    expect(a()).toBe(b());
    const z = seededRandom(0);
    const v = z();
    expect(v >= 0 && v < 1).toBe(true);
  });
});

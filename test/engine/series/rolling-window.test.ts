import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { RarityHistogram } from '../../../functions/engine/series/rarity.ts';
import { normalTail, robustScale, robustZ } from '../../../functions/engine/series/robust.ts';
import { RollingWindow } from '../../../functions/engine/series/rolling-window.ts';

/** The q-quantile by sorting a copy: the definition the window must match. */
function bruteQuantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

describe('RollingWindow', () => {
  it('gives the quantiles of the last `capacity` values, ties and evictions included, as sorting would', () => {
    const random = seededRandom(7);
    for (const capacity of [1, 2, 5, 64]) {
      const window = new RollingWindow(capacity);
      const all: number[] = [];
      for (let i = 0; i < 600; i++) {
        const v = random() < 0.3 ? Math.floor(random() * 4) : random() * 100 - 50; // many ties
        window.push(v);
        all.push(v);
        const last = all.slice(-capacity);
        for (const q of [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1]) expect(window.quantile(q)).toBe(bruteQuantile(last, q));
        expect(window.recent(0)).toBe(v);
        expect(Array.from(window.values())).toEqual(last);
      }
    }
  });

  it('rebuilt from its values answers the same', () => {
    const random = seededRandom(3);
    const a = new RollingWindow(32);
    for (let i = 0; i < 100; i++) a.push(random());
    const b = RollingWindow.from(32, a.values());
    for (let i = 0; i < 50; i++) {
      const v = random();
      a.push(v);
      b.push(v);
      expect(b.quantile(0.37)).toBe(a.quantile(0.37));
    }
  });
});

describe('robust statistics', () => {
  it('robust z of a normal-ish window is near the classical z', () => {
    const window = new RollingWindow(1001);
    for (let i = 0; i <= 1000; i++) window.push(i / 1000); // uniform 0..1: IQR 0.5
    expect(robustScale(window)).toBeCloseTo(0.5 / 1.349, 6);
    expect(robustZ(window, 0.5)).toBe(0);
    expect(robustZ(window, 0.5 + 0.5 / 1.349)).toBeCloseTo(1, 6);
  });

  it('a constant window gives finite z-scores', () => {
    const window = RollingWindow.from(16, new Array(16).fill(3));
    expect(robustZ(window, 3)).toBe(0);
    expect(Number.isFinite(robustZ(window, 4))).toBe(true);
  });

  it('normal tail matches known values', () => {
    expect(normalTail(0)).toBeCloseTo(0.5, 7);
    expect(normalTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalTail(-1.644854)).toBeCloseTo(0.95, 6);
    expect(normalTail(5)).toBeCloseTo(2.8665e-7, 9);
  });
});

describe('RarityHistogram', () => {
  it('tail share equals the exponentially weighted share computed directly', () => {
    const random = seededRandom(11);
    const decay = 0.5 ** (1 / 50);
    const h = new RarityHistogram(decay);
    const seen: number[] = [];
    for (let i = 0; i < 9000; i++) {
      const d = random() * 20;
      if (i % 997 === 0) {
        let above = 0;
        let total = 0;
        seen.forEach((x, k) => {
          const w = decay ** (seen.length - 1 - k);
          total += w;
          if (RarityHistogram.bin(x) >= RarityHistogram.bin(d)) above += w;
        });
        // prior 0: the pure weighted share; relative error from rescaling stays tiny
        if (total > 0) expect(h.tail(d, 0)).toBeCloseTo(above / total, 9);
      }
      h.add(d);
      seen.push(d);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { normaliseMap, quantile } from '../../../functions/engine/calibration/score-scale.ts';
import { calibrateThresholds } from '../../../functions/engine/calibration/thresholds.ts';
import { defaultDetectionSettings } from '../../../functions/engine/detection/detection-settings.ts';
import { findRegions, growMask } from '../../../functions/engine/detection/regions.ts';
import { maskOverlap } from '../../../functions/engine/evaluation/score-labelled-images.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

const settings = defaultDetectionSettings().regions;
const W = 40;
const H = 60;

/**
 * A synthetic crack as PatchCore maps show one: a vertical line over the whole height whose score is high at one
 * point (the peak) and lower but still well above the normal background along the rest; normal maps are noise.
 */
function crackMap(random: () => number): { map: Float32Array; truth: Uint8Array } {
  const map = Float32Array.from({ length: W * H }, () => 1 + random() * 0.5);
  const truth = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 18; x < 22; x++) {
      truth[y * W + x] = 1;
      map[y * W + x] = 1.8 + random() * 0.3 + (y >= 8 && y < 14 ? 1.5 : 0); // peak near the top
    }
  return { map, truth };
}

describe('masks grown from the peaks to a level calibrated on normal images', () => {
  const random = seededRandom(5);
  // Normal maps: noise with one small bright spot each (normal variation), which sets the maxima and so the threshold.
  const normals = Array.from({ length: 20 }, () => {
    const m = Float32Array.from({ length: W * H }, () => 1 + random() * 0.5);
    const at = Math.floor(random() * (W * H - W - 1));
    for (const p of [at, at + 1, at + W, at + W + 1]) m[p] = 2.3 + random() * 0.4;
    return m;
  });
  const thresholds = calibrateThresholds(
    {
      normalImageScores: normals.map(() => 1),
      normalPixelMaxima: normals.map((m) => Math.max(...m)),
      normalPixels: Float32Array.from(normals.flatMap((m) => [...m])),
      anomalousImageScores: [],
    },
    { rule: { sigmas: 1.5 }, margin: 0, growQuantile: 0.99 },
  );
  const { pixel } = thresholds;

  it('puts the grow level at the quantile of the normal pixels, below the threshold (set by the maxima)', () => {
    const all = Float32Array.from(normals.flatMap((m) => [...m]));
    expect(pixel.grow).toBeCloseTo(quantile(all, 0.99), 6);
    expect(pixel.grow!).toBeLessThan(pixel.threshold);
  });

  it('covers the whole crack with one tall box (the threshold alone marks its peak)', () => {
    const { map, truth } = crackMap(random);
    const normalised = normaliseMap(map.slice(), pixel);
    const seedsOnly = findRegions(normalised, W, H, W, H, 0.5, settings);
    const grown = findRegions(normalised, W, H, W, H, 0.5, settings, growMask(map, pixel, 0.5));
    expect(seedsOnly.regions).toHaveLength(1);
    expect(seedsOnly.regions[0].box.height).toBeLessThan(10);
    expect(maskOverlap(seedsOnly.mask, truth).iou).toBeLessThan(0.2);
    expect(grown.regions).toHaveLength(1);
    expect(grown.regions[0].box).toMatchObject({ x: 18, y: 0, width: 4, height: H });
    expect(maskOverlap(grown.mask, truth).iou).toBeGreaterThan(0.9);
    expect(grown.damagePercentage).toBeCloseTo((100 * 4 * H) / (W * H), 1);
  });

  it('adds no region on a normal map, and none where pixels above the grow level have no peak', () => {
    for (const m of normals.slice(0, 5)) {
      const r = findRegions(normaliseMap(m.slice(), pixel), W, H, W, H, 0.5, settings, growMask(m, pixel, 0.5));
      const before = findRegions(normaliseMap(m.slice(), pixel), W, H, W, H, 0.5, settings);
      expect(r.regions.length).toBeLessThanOrEqual(before.regions.length);
    }
    const { map } = crackMap(random);
    for (let y = 40; y < 50; y++) for (let x = 2; x < 8; x++) map[y * W + x] = 1.9; // above grow, below threshold
    const r = findRegions(normaliseMap(map.slice(), pixel), W, H, W, H, 0.5, settings, growMask(map, pixel, 0.5));
    expect(r.regions).toHaveLength(1);
    expect(r.mask[45 * W + 5]).toBe(0);
  });

  it('moves the grow level with the decision threshold, and grows nothing for a model without one', () => {
    const { map } = crackMap(random);
    const raw = (t: number) => pixel.threshold + (t - 0.5) * (pixel.max - pixel.min);
    const count = (m: Uint8Array | undefined) => m!.reduce((a, v) => a + v, 0);
    const at = growMask(map, pixel, 0.5);
    expect(count(at)).toBe(map.filter((v) => v >= pixel.grow!).length);
    const lower = growMask(map, pixel, 0.4)!;
    expect(count(lower)).toBe(map.filter((v) => v >= pixel.grow! + raw(0.4) - raw(0.5)).length);
    expect(count(lower)).toBeGreaterThan(count(at));
    const { grow: _, ...old } = pixel;
    expect(growMask(map, old, 0.5)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { normaliseMap, quantile } from '../../../functions/engine/calibration/score-scale.ts';
import { calibrateThresholds } from '../../../functions/engine/calibration/thresholds.ts';
import { defaultDetectionSettings } from '../../../functions/engine/detection/detection-settings.ts';
import { findRegions, growMask } from '../../../functions/engine/detection/regions.ts';
import { maskOverlap } from '../../../functions/engine/evaluation/score-labelled-images.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { InvalidOptionError } from '../../../functions/engine/errors.ts';
import { train } from '../../../functions/engine/training/train.ts';

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
    const grown = findRegions(normalised, W, H, W, H, 0.5, settings, growMask(map, W, H, pixel, 0.5));
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
      const r = findRegions(normaliseMap(m.slice(), pixel), W, H, W, H, 0.5, settings, growMask(m, W, H, pixel, 0.5));
      const before = findRegions(normaliseMap(m.slice(), pixel), W, H, W, H, 0.5, settings);
      expect(r.regions.length).toBeLessThanOrEqual(before.regions.length);
    }
    const { map } = crackMap(random);
    for (let y = 40; y < 50; y++) for (let x = 2; x < 8; x++) map[y * W + x] = 1.9; // above grow, below threshold
    const r = findRegions(normaliseMap(map.slice(), pixel), W, H, W, H, 0.5, settings, growMask(map, W, H, pixel, 0.5));
    expect(r.regions).toHaveLength(1);
    expect(r.mask[45 * W + 5]).toBe(0);
  });

  it('moves the grow level with the decision threshold, and grows nothing for a model without one', () => {
    const { map } = crackMap(random);
    const raw = (t: number) => pixel.threshold + (t - 0.5) * (pixel.max - pixel.min);
    const count = (m: Uint8Array | undefined) => m!.reduce((a, v) => a + v, 0);
    const at = growMask(map, W, H, pixel, 0.5);
    expect(count(at)).toBe(map.filter((v) => v >= pixel.grow!).length);
    const lower = growMask(map, W, H, pixel, 0.4)!;
    expect(count(lower)).toBe(map.filter((v) => v >= pixel.grow! + raw(0.4) - raw(0.5)).length);
    expect(count(lower)).toBeGreaterThan(count(at));
    const { grow: _, ...old } = pixel;
    expect(growMask(map, W, H, old, 0.5)).toBeUndefined();
  });
});

describe("regions grown to a share of their own peak's height above the floor", () => {
  const S = 48;
  // Raw scale: threshold 3, floor (grow level) 2; each region stops at 2 + 0.25 x (its peak - 2), at most 3.
  const pixel = { threshold: 3, min: 1, max: 5, grow: 2, growFraction: 0.25 };
  /** Cones on a background of 1: value peak - slope x distance from the centre, never below 1. */
  function cones(specs: { cx: number; cy: number; peak: number; slope: number }[]): Float32Array {
    const map = new Float32Array(S * S).fill(1);
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++)
        for (const c of specs) {
          const v = c.peak - c.slope * Math.hypot(x - c.cx, y - c.cy);
          if (v > map[y * S + x]) map[y * S + x] = v;
        }
    return map;
  }
  const inside = (map: Float32Array, c: { cx: number; cy: number }, radius: number) =>
    Array.from(map, (_, i) => (Math.hypot((i % S) - c.cx, Math.floor(i / S) - c.cy) <= radius ? 1 : 0));

  it("grows each region down to its own level: a strong one past the threshold's edge, not over the floor's halo", () => {
    const strong = { cx: 12, cy: 12, peak: 4.04, slope: 0.25 }; // level 2.51: radius 6.12 (threshold: 4.2, floor: 8.2)
    const faint = { cx: 34, cy: 34, peak: 3.24, slope: 0.1 }; // level 2.31: radius 9.3 (threshold: 2.4, floor: 12.4)
    const map = cones([strong, faint]);
    const mask = growMask(map, S, S, pixel, 0.5)!;
    const expected = Array.from(inside(map, strong, 6.12), (v, i) => v | inside(map, faint, 9.3)[i]);
    expect(Array.from(mask)).toEqual(expected);
    // Plain hysteresis (fraction 0, models without growFraction) takes the whole halo down to the floor.
    const { growFraction: _, ...plain } = pixel;
    const toFloor = growMask(map, S, S, plain, 0.5)!;
    expect(toFloor.reduce((a, v) => a + v, 0)).toBeGreaterThan(mask.reduce((a, v) => a + v, 0) * 1.5);
    const normalised = normaliseMap(map.slice(), pixel);
    const regions = findRegions(normalised, S, S, S, S, 0.5, settings, mask).regions;
    expect(regions.map((r) => r.box)).toMatchObject([
      { x: 6, y: 6, width: 13, height: 13 },
      { x: 25, y: 25, width: 19, height: 19 },
    ]);
  });

  it('never grows a region above the threshold (a peak far above it keeps at least its seed) nor into normal pixels', () => {
    const bright = { cx: 20, cy: 20, peak: 20, slope: 1 }; // level 2 + 4.5 = 6.5, held at the threshold 3
    const map = cones([bright]);
    const mask = growMask(map, S, S, pixel, 0.5)!;
    expect(Array.from(mask)).toEqual(Array.from(map, (v) => (v >= 3 ? 1 : 0)));
    const background = growMask(new Float32Array(S * S).fill(2.9), S, S, pixel, 0.5)!; // above the floor, no seed
    expect(background.every((v) => v === 0)).toBe(true);
  });

  it('moves both levels with the decision threshold, as the floor moved before', () => {
    const c = { cx: 24, cy: 24, peak: 4, slope: 0.25 };
    const map = cones([c]);
    // Threshold 0.45: shift -0.2 raw (0.05 x range 4): seed 2.8, floor 1.8, level 1.8 + 0.25 x 2.2 = 2.35: radius 6.6.
    const mask = growMask(map, S, S, pixel, 0.45)!;
    expect(Array.from(mask)).toEqual(inside(map, c, 6.6));
  });

  it('is calibrated with the floor, and absent (plain hysteresis) with fraction 0', () => {
    const normals = Array.from({ length: 4 }, (_, k) =>
      Float32Array.from({ length: 100 }, (_, i) => 1 + ((i * 7 + k) % 10) / 10),
    );
    const scores = {
      normalImageScores: [1, 1.1, 1.2, 1.3],
      normalPixelMaxima: normals.map((m) => Math.max(...m)),
      normalPixels: Float32Array.from(normals.flatMap((m) => [...m])),
      anomalousImageScores: [],
    };
    const rule = { rule: { sigmas: 1.5 }, margin: 0, growQuantile: 0.9 };
    expect(calibrateThresholds(scores, { ...rule, growFraction: 0.3 }).pixel.growFraction).toBe(0.3);
    expect(calibrateThresholds(scores, { ...rule, growFraction: 0 }).pixel).not.toHaveProperty('growFraction');
  });

  it('refuses a grow fraction outside [0, 1) and a grow quantile outside (0, 1] before any work', async () => {
    for (const bad of [{ growFraction: 1 }, { growFraction: -0.1 }, { growFraction: Number.NaN }, { growQuantile: 0 }])
      await expect(train([], bad)).rejects.toThrow(InvalidOptionError);
    await expect(train([], { growFraction: 1 })).rejects.toThrow(/growFraction must be in \[0, 1\), got 1/);
  });
});

import { describe, expect, it } from 'vitest';
import { connectedComponents, type Component } from '../../../functions/engine/math/connected-components.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

/** What the flood fill finds: a component without label or peak position, with its pixels. */
type BruteComponent = Omit<Component, 'label' | 'peakX' | 'peakY'> & { pixels: number[] };

/** Flood fill (8-connectivity) starting from each unvisited pixel in raster order. */
function floodFill(mask: Uint8Array, w: number, h: number, scores?: Float32Array): BruteComponent[] {
  const seen = new Uint8Array(w * h);
  const out: BruteComponent[] = [];
  for (let start = 0; start < w * h; start++) {
    if (!mask[start] || seen[start]) continue;
    const stack = [start];
    seen[start] = 1;
    const pixels: number[] = [];
    while (stack.length) {
      const i = stack.pop()!;
      pixels.push(i);
      const x = i % w;
      const y = Math.floor(i / w);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          const j = yy * w + xx;
          if (mask[j] && !seen[j]) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    const xs = pixels.map((i) => i % w);
    const ys = pixels.map((i) => Math.floor(i / w));
    const minX = Math.min(...xs);
    const minY = Math.min(...ys);
    out.push({
      area: pixels.length,
      x: minX,
      y: minY,
      width: Math.max(...xs) - minX + 1,
      height: Math.max(...ys) - minY + 1,
      peak: Math.max(...pixels.map((i) => (scores ? scores[i] : 1))),
      pixels: pixels.sort((a, b) => a - b),
    });
  }
  return out;
}

function randomMask(random: () => number, w: number, h: number, density: number): Uint8Array {
  return Uint8Array.from({ length: w * h }, () => (random() < density ? 1 : 0));
}

function check(mask: Uint8Array, w: number, h: number, scores?: Float32Array): void {
  const { labels, components } = connectedComponents(mask, w, h, scores);
  const expected = floodFill(mask, w, h, scores);
  expect(components.length).toBe(expected.length);
  expect(labels.length).toBe(w * h);
  // Pair components by their pixel sets via the label image.
  const byLabel = new Map<number, Component>(components.map((c) => [c.label, c]));
  const labelsUsed = new Set<number>();
  for (const e of expected) {
    const label = labels[e.pixels[0]];
    expect(label).toBeGreaterThan(0);
    for (const p of e.pixels) expect(labels[p]).toBe(label);
    expect(labelsUsed.has(label)).toBe(false);
    labelsUsed.add(label);
    const c = byLabel.get(label)!;
    expect(c).toBeDefined();
    expect({ area: c.area, x: c.x, y: c.y, width: c.width, height: c.height }).toEqual({
      area: e.area,
      x: e.x,
      y: e.y,
      width: e.width,
      height: e.height,
    });
    expect(c.peak).toBe(e.peak);
    // The peak location is inside the component and holds the peak value.
    const at = c.peakY * w + c.peakX;
    expect(labels[at]).toBe(label);
    expect(scores ? scores[at] : 1).toBe(c.peak);
  }
  // Background stays 0 and labels are 1..count.
  for (let i = 0; i < w * h; i++) if (!mask[i]) expect(labels[i]).toBe(0);
  expect([...labelsUsed].sort((a, b) => a - b)).toEqual(Array.from({ length: components.length }, (_, i) => i + 1));
}

describe('connectedComponents', () => {
  it('matches a flood fill on random masks (count, areas, boxes, peaks)', () => {
    const random = seededRandom(31);
    for (let trial = 0; trial < 60; trial++) {
      const w = 1 + Math.floor(random() * 40);
      const h = 1 + Math.floor(random() * 40);
      const density = 0.15 + random() * 0.5;
      const mask = randomMask(random, w, h, density);
      const scores = Float32Array.from({ length: w * h }, () => random());
      check(mask, w, h, scores);
      check(mask, w, h);
    }
  });

  it('joins diagonal neighbours (8-connectivity), both diagonals', () => {
    // X . .       . . X
    // . X .   and . X .
    // . . X       X . .
    const a = Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const b = Uint8Array.from([0, 0, 1, 0, 1, 0, 1, 0, 0]);
    for (const mask of [a, b]) {
      const { components } = connectedComponents(mask, 3, 3);
      expect(components.length).toBe(1);
      expect(components[0]).toMatchObject({ label: 1, area: 3, x: 0, y: 0, width: 3, height: 3 });
    }
  });

  it('merges the two arms of a U shape into one component', () => {
    // X . . . X
    // X . . . X
    // X X X X X
    const w = 5;
    const mask = Uint8Array.from([1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    const scores = new Float32Array(15);
    scores[4] = 9; // top of the right arm
    const { labels, components } = connectedComponents(mask, w, 3, scores);
    expect(components.length).toBe(1);
    expect(components[0]).toEqual({ label: 1, area: 9, x: 0, y: 0, width: 5, height: 3, peak: 9, peakX: 4, peakY: 0 });
    for (let i = 0; i < 15; i++) expect(labels[i]).toBe(mask[i] ? 1 : 0);
  });

  it('merges nested U shapes (chains of unions)', () => {
    // A comb: several vertical teeth joined only by the bottom row.
    const w = 9;
    const h = 6;
    const mask = new Uint8Array(w * h);
    for (let x = 0; x < w; x += 2) for (let y = 0; y < h; y++) mask[y * w + x] = 1;
    for (let x = 0; x < w; x++) mask[(h - 1) * w + x] = 1;
    const { components } = connectedComponents(mask, w, h);
    expect(components.length).toBe(1);
    expect(components[0].area).toBe(5 * h + 4);
    check(mask, w, h);
  });

  it('separates components that only touch across the row wrap', () => {
    // Pixel at the end of row 0 and at the start of row 1 are not neighbours.
    const mask = Uint8Array.from([0, 0, 1, 1, 0, 0]);
    const { components } = connectedComponents(mask, 3, 2);
    expect(components.length).toBe(2);
  });

  it('returns nothing for an empty mask and one component for a full one', () => {
    expect(connectedComponents(new Uint8Array(12), 4, 3).components).toEqual([]);
    const full = connectedComponents(new Uint8Array(12).fill(1), 4, 3);
    expect(full.components).toEqual([
      { label: 1, area: 12, x: 0, y: 0, width: 4, height: 3, peak: 1, peakX: 0, peakY: 0 },
    ]);
  });
});

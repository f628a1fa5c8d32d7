import { describe, expect, it } from 'vitest';
import { augmentedViews, renderView, viewPatchSources } from '../../../functions/engine/training/augment.ts';

const SIZE = 8;
const image = Float32Array.from({ length: 3 * SIZE * SIZE }, (_, i) => i);
const at = (data: Float32Array, c: number, x: number, y: number) => data[c * SIZE * SIZE + y * SIZE + x];

describe('augmented views', () => {
  it('adds one view per flip and two (either way) per shift or rotation, only for the allowed transforms', () => {
    expect(augmentedViews([]).map((v) => v.name)).toEqual([]);
    expect(augmentedViews(['vflip', 'rotate']).map((v) => v.name)).toEqual(['vflip', 'rotate+', 'rotate-']);
    expect(augmentedViews(['hflip', 'vflip', 'shift', 'rotate'])).toHaveLength(6);
  });

  it('flips mirror the image exactly, in every channel', () => {
    const [h, v] = augmentedViews(['hflip', 'vflip']);
    const out = new Float32Array(image.length);
    renderView(image, 0, SIZE, h, out, 0);
    for (const c of [0, 2]) expect(at(out, c, 1, 3)).toBe(at(image, c, SIZE - 2, 3));
    renderView(image, 0, SIZE, v, out, 0);
    expect(at(out, 1, 1, 3)).toBe(at(image, 1, 1, SIZE - 4));
  });

  it('a rotation keeps the centre and moves the corners; edges are repeated where it looks past the image', () => {
    const rotate = augmentedViews(['rotate'])[0];
    const [cx, cy] = rotate.source(3.5, 3.5, SIZE);
    expect(cx).toBeCloseTo(3.5, 10);
    expect(cy).toBeCloseTo(3.5, 10);
    const out = new Float32Array(image.length);
    renderView(image, 0, SIZE, rotate, out, 0);
    const lo = Math.min(...image.subarray(0, SIZE * SIZE));
    const hi = Math.max(...image.subarray(0, SIZE * SIZE));
    for (const v of out.subarray(0, SIZE * SIZE)) expect(v >= lo && v <= hi).toBe(true);
    expect(at(out, 0, 0, 0)).not.toBe(at(image, 0, 0, 0));
  });

  it('maps each patch of a flipped view to the patch of the original it shows', () => {
    const grid = 4;
    const sources = viewPatchSources(augmentedViews(['hflip'])[0], grid, 224);
    expect(sources[0]).toBe(grid - 1); // top left shows the original's top right
    expect(sources[grid * 2 + 1]).toBe(grid * 2 + (grid - 2));
  });
});

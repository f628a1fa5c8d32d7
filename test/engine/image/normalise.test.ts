import { describe, expect, it } from 'vitest';
import { ImageNormaliser } from '../../../functions/engine/image/normalise.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

describe('ImageNormaliser', () => {
  it('writes (v / 255 - mean) / std per channel in NCHW layout at the given slot', () => {
    const random = seededRandom(71);
    const side = 5;
    const plane = side * side;
    const batchSize = 3;
    const slot = 1;
    const rgb = Uint8Array.from({ length: plane * 3 }, () => Math.floor(random() * 256));
    rgb[0] = 0;
    rgb[1] = 255;
    const batch = new Float32Array(batchSize * 3 * plane).fill(Number.NaN);
    new ImageNormaliser(MEAN, STD).writeInto(rgb, batch, slot, side);

    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const v = rgb[(y * side + x) * 3 + c];
          const expected = (v / 255 - MEAN[c]) / STD[c];
          expect(batch[slot * 3 * plane + c * plane + y * side + x]).toBeCloseTo(expected, 5);
        }
      }
    }
    expect(batch[slot * 3 * plane]).toBeCloseTo(-MEAN[0] / STD[0], 5);
    expect(batch[slot * 3 * plane + plane]).toBeCloseTo((1 - MEAN[1]) / STD[1], 5);
    // Other slots untouched.
    for (let i = 0; i < 3 * plane; i++) expect(batch[i]).toBeNaN();
    for (let i = 2 * 3 * plane; i < batch.length; i++) expect(batch[i]).toBeNaN();
  });

  it('keeps slots apart when filling a whole batch', () => {
    const side = 2;
    const plane = 4;
    const n = new ImageNormaliser([0, 0, 0], [1, 1, 1]);
    const batch = new Float32Array(2 * 3 * plane);
    n.writeInto(new Uint8Array(12).fill(255), batch, 0, side);
    n.writeInto(new Uint8Array(12), batch, 1, side);
    expect(Array.from(batch.subarray(0, 12))).toEqual(new Array(12).fill(1));
    expect(Array.from(batch.subarray(12))).toEqual(new Array(12).fill(0));
  });

  it('does not mix channels: a pure red image lights only the first plane', () => {
    const side = 3;
    const rgb = new Uint8Array(27);
    for (let p = 0; p < 9; p++) rgb[p * 3] = 255;
    const batch = new Float32Array(27);
    new ImageNormaliser([0, 0, 0], [0.5, 0.5, 0.5]).writeInto(rgb, batch, 0, side);
    expect(Array.from(batch.subarray(0, 9))).toEqual(new Array(9).fill(2));
    expect(Array.from(batch.subarray(9))).toEqual(new Array(18).fill(0));
  });

  it('throws RangeError when the RGB length does not match the side', () => {
    const n = new ImageNormaliser(MEAN, STD);
    const batch = new Float32Array(3 * 16);
    expect(() => n.writeInto(new Uint8Array(47), batch, 0, 4)).toThrow(RangeError);
    expect(() => n.writeInto(new Uint8Array(49), batch, 0, 4)).toThrow(RangeError);
    expect(() => n.writeInto(new Uint8Array(16 * 4), batch, 0, 4)).toThrow(RangeError); // RGBA is not RGB
    expect(() => n.writeInto(new Uint8Array(48), batch, 0, 4)).not.toThrow();
  });

  describe('each image by its own statistics', () => {
    const side = 4;
    const plane = side * side;
    const random = seededRandom(5);
    const rgb = Uint8Array.from({ length: plane * 3 }, () => 20 + Math.floor(random() * 90));
    const write = (bytes: Uint8Array) => {
      const batch = new Float32Array(3 * plane);
      new ImageNormaliser(MEAN, STD, true).writeInto(bytes, batch, 0, side);
      return batch;
    };

    it('gives zero mean and unit spread over all three channels, whatever the mean and std it was built with', () => {
      const batch = write(rgb);
      const mean = batch.reduce((a, v) => a + v, 0) / batch.length;
      const variance = batch.reduce((a, v) => a + (v - mean) ** 2, 0) / batch.length;
      expect(mean).toBeCloseTo(0, 5);
      expect(variance).toBeCloseTo(1, 4);
    });

    it('does not see a photo taken brighter and with more contrast (v -> 2 v + 15)', () => {
      const brighter = rgb.map((v) => 2 * v + 15);
      const a = write(rgb);
      const b = write(brighter);
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 4);
      // With fixed statistics it does.
      const fixed = (bytes: Uint8Array) => {
        const batch = new Float32Array(3 * plane);
        new ImageNormaliser(MEAN, STD).writeInto(bytes, batch, 0, side);
        return batch;
      };
      expect(fixed(brighter)[0]).not.toBeCloseTo(fixed(rgb)[0], 1);
    });

    it("keeps a colour's balance between channels (one mean and spread for all three) and survives a flat image", () => {
      const red = new Uint8Array(plane * 3);
      for (let p = 0; p < plane; p++) red[p * 3] = p < plane / 2 ? 200 : 100;
      const batch = write(red);
      // Red above the image's mean where it is bright; green and blue, always 0, below it, and equal.
      expect(batch[0]).toBeGreaterThan(0);
      expect(batch[plane]).toBeLessThan(0);
      expect(batch[plane]).toBe(batch[2 * plane]);
      const flat = write(new Uint8Array(plane * 3).fill(77));
      expect(Array.from(flat)).toEqual(new Array(3 * plane).fill(0));
    });
  });
});

import { describe, expect, it } from 'vitest';
import { gaussianBlur } from '../../../functions/engine/math/gaussian-blur.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { resizeBilinear } from '../../../functions/engine/math/resize-bilinear.ts';
import type { Preprocessing } from '../../../functions/engine/artifact/artifact-manifest.ts';
import {
  imageToInput,
  inputAnomalyMap,
  inputRectToImage,
  mapSize,
  toImageGeometry,
} from '../../../functions/engine/scoring/anomaly-map.ts';

const preprocessing = (resize: 'direct' | 'crop'): Preprocessing => ({
  size: 224,
  resize,
  resizeTo: resize === 'crop' ? 256 : 224,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
});

describe('inputAnomalyMap', () => {
  it('equals bilinear upsampling followed by the Gaussian blur, for several grids and sigmas', () => {
    const random = seededRandom(3);
    for (const [grid, size, sigma] of [
      [28, 224, 4],
      [14, 224, 4],
      [7, 56, 1.5],
      [28, 224, 0],
    ] as const) {
      const patches = Float32Array.from({ length: grid * grid }, () => random() * 5);
      const expected = gaussianBlur(resizeBilinear(patches, grid, grid, size, size), size, size, sigma);
      const actual = inputAnomalyMap(patches, grid, size, sigma);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('keeps a constant map constant (the operator rows sum to 1)', () => {
    const map = inputAnomalyMap(new Float32Array(28 * 28).fill(2.5), 28, 224, 4);
    for (const v of [map[0], map[12345], map[map.length - 1]]) expect(v).toBeCloseTo(2.5, 5);
  });
});

describe('map geometry', () => {
  it('caps the longer side at maxSide and keeps the aspect ratio', () => {
    expect(mapSize(4000, 3000, 1024)).toEqual({ width: 1024, height: 768 });
    expect(mapSize(288, 384, 1024)).toEqual({ width: 288, height: 384 });
  });

  it('maps a direct-resized input back onto the image', () => {
    const input = new Float32Array(224 * 224);
    for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) input[y * 224 + x] = x < 112 ? 0 : 1;
    const image = toImageGeometry(input, preprocessing('direct'), 448, 100);
    expect(image[10 * 448 + 100]).toBe(0);
    expect(image[10 * 448 + 300]).toBe(1);
  });

  it('places a cropped input in the middle of the image and extends its edges outwards', () => {
    const input = new Float32Array(224 * 224);
    for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) input[y * 224 + x] = x;
    const image = toImageGeometry(input, preprocessing('crop'), 256, 256);
    // resizeTo 256 = the image, crop offset 16: image column 16 + k shows input column k
    expect(image[100 * 256 + 16 + 50]).toBeCloseTo(50, 4);
    expect(image[100 * 256 + 2]).toBe(0);
    expect(image[100 * 256 + 254]).toBe(223);
  });

  it('converts between image pixels and input pixels consistently', () => {
    for (const mode of ['direct', 'crop'] as const) {
      const p = imageToInput(150, 90, 300, 200, preprocessing(mode));
      const rect = inputRectToImage(
        { x: Math.floor(p.x), y: Math.floor(p.y), width: 1, height: 1 },
        300,
        200,
        preprocessing(mode),
      );
      expect(150).toBeGreaterThanOrEqual(rect.x - 1);
      expect(150).toBeLessThanOrEqual(rect.x + rect.width);
      expect(90).toBeGreaterThanOrEqual(rect.y - 1);
      expect(90).toBeLessThanOrEqual(rect.y + rect.height);
    }
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreparedBackbone } from '../../../functions/engine/backbone/obtain-backbone.ts';
import { FEATURES_OUTPUT } from '../../../functions/engine/backbone/feature-model.ts';
import { InvalidOptionError } from '../../../functions/engine/errors.ts';
import { FeatureExtractor } from '../../../functions/engine/features/feature-extractor.ts';
import {
  accumulateTile,
  normaliseBlend,
  TILE_OVERLAP,
  tileLayout,
  tilesPerImage,
} from '../../../functions/engine/features/tiling.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { DataType, node, valueInfo } from '../../../functions/engine/onnx/graph-builder.ts';
import { onnx } from '../../../functions/engine/onnx/onnx-proto.ts';

const TILE = 224;
const CELL = 8;

describe('tile layout', () => {
  it('covers the image with tiles on the cell lattice, overlapping by at least half a tile', () => {
    for (const resolution of [224, 320, 448, 560, 672, 1344]) {
      const { offsets, grid, tileGrid } = tileLayout(resolution, TILE, CELL);
      expect(grid).toBe(resolution / CELL);
      expect(tileGrid).toBe(TILE / CELL);
      expect(offsets[0]).toBe(0);
      expect(offsets.at(-1)).toBe(resolution - TILE);
      for (const o of offsets) expect(o % CELL).toBe(0);
      for (let i = 1; i < offsets.length; i++) {
        expect(offsets[i]).toBeGreaterThan(offsets[i - 1]);
        expect(offsets[i] - offsets[i - 1]).toBeLessThanOrEqual(TILE * (1 - TILE_OVERLAP));
      }
    }
    expect(tileLayout(224, TILE, CELL).offsets).toEqual([0]);
    expect(tileLayout(448, TILE, CELL).offsets).toEqual([0, 112, 224]);
  });

  it('refuses a resolution below the tile, off the cell lattice or above the cap, with a clear error', () => {
    for (const bad of [100, 450, 4096, 448.5]) expect(() => tileLayout(bad, TILE, CELL)).toThrow(InvalidOptionError);
  });

  it('blends overlapping tiles as the brute-force weighted mean over every tile covering each cell', () => {
    const layout = tileLayout(448, TILE, CELL);
    const { grid: G, tileGrid: g, offsets } = layout;
    const channels = 3;
    const random = seededRandom(7);
    const tiles = Array.from({ length: tilesPerImage(layout) }, () =>
      Float32Array.from({ length: g * g * channels }, () => random() * 2 - 1),
    );
    const sums = new Float32Array(G * G * channels);
    const totals = new Float32Array(G * G);
    tiles.forEach((t, i) => accumulateTile(layout, i, t, channels, sums, totals));
    normaliseBlend(sums, totals, channels);

    // Reference: for every image cell, every tile that contains it, weighted by the tent (distance to the tile border).
    const tent = (i: number) => Math.min(i + 1, g - i);
    for (let y = 0; y < G; y++) {
      for (let x = 0; x < G; x++) {
        for (let c = 0; c < channels; c++) {
          let s = 0;
          let w = 0;
          offsets.forEach((oy, ty) =>
            offsets.forEach((ox, tx) => {
              const ly = y - oy / CELL;
              const lx = x - ox / CELL;
              if (ly < 0 || lx < 0 || ly >= g || lx >= g) return;
              const weight = tent(ly) * tent(lx);
              s += weight * tiles[ty * offsets.length + tx][(ly * g + lx) * channels + c];
              w += weight;
            }),
          );
          expect(sums[(y * G + x) * channels + c]).toBeCloseTo(s / w, 5);
        }
      }
    }
  });
});

/**
 * A "backbone" whose features are the mean of each 8 x 8 pixel block: every tile that contains a block sees it whole,
 * so the stitched features must equal the block means of the whole image, wherever the tiles and their seams lie.
 */
async function blockMeanBackbone(dir: string): Promise<PreparedBackbone> {
  const model = {
    irVersion: 7,
    producerName: 'faultline-tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'block-mean',
      node: [
        node('AveragePool', ['input'], ['pooled'], { kernel_shape: { ints: [8, 8] }, strides: { ints: [8, 8] } }),
        node('Transpose', ['pooled'], [FEATURES_OUTPUT], { perm: { ints: [0, 2, 3, 1] } }),
      ],
      input: [valueInfo('input', DataType.FLOAT, ['batch', 3, TILE, TILE])],
      output: [valueInfo(FEATURES_OUTPUT, DataType.FLOAT, ['batch', 28, 28, 3])],
    },
  };
  const path = join(dir, 'block-mean.onnx');
  await writeFile(path, onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish());
  return {
    manifest: { input: { name: 'input', size: TILE } } as PreparedBackbone['manifest'],
    layers: [],
    featureModelPath: path,
    backbonePath: path,
    aggregation: 3,
    grid: 28,
    channels: 3,
  };
}

function blockMeans(image: Float32Array, slot: number, size: number): Float32Array {
  const G = size / CELL;
  const out = new Float32Array(G * G * 3);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        out[(Math.floor(y / CELL) * G + Math.floor(x / CELL)) * 3 + c] +=
          image[((slot * 3 + c) * size + y) * size + x] / (CELL * CELL);
  return out;
}

describe('tiled feature extraction', () => {
  let dir: string;
  let backbone: PreparedBackbone;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-tiling-'));
    backbone = await blockMeanBackbone(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stitches the tiles of several images, in batches, into the whole image features', async () => {
    for (const resolution of [448, 320]) {
      const extractor = await FeatureExtractor.create(backbone, undefined, { resolution });
      expect(extractor.grid).toBe(resolution / CELL);
      const count = 3; // 3 x 9 tiles at 448: more than one backbone run
      const random = seededRandom(resolution);
      const batch = Float32Array.from({ length: count * 3 * resolution * resolution }, () => random());
      const features = await extractor.extract(batch, count);
      const perImage = extractor.patchesPerImage * 3;
      expect(features.length).toBe(count * perImage);
      for (let i = 0; i < count; i++) {
        const expected = blockMeans(batch, i, resolution);
        const got = features.subarray(i * perImage, (i + 1) * perImage);
        let worst = 0;
        for (let k = 0; k < got.length; k++) worst = Math.max(worst, Math.abs(got[k] - expected[k]));
        expect(worst).toBeLessThan(1e-5);
      }
      await extractor.release();
    }
  });

  it('with multiScale appends the coarse whole-image view, upsampled to the fine grid', async () => {
    const resolution = 448;
    const extractor = await FeatureExtractor.create(backbone, undefined, { resolution, multiScale: true });
    expect(extractor.channels).toBe(6);
    // A horizontal ramp: the coarse view's block means are the ramp's means over 16-pixel blocks of the full image.
    const batch = new Float32Array(3 * resolution * resolution);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < resolution; y++)
        for (let x = 0; x < resolution; x++) batch[(c * resolution + y) * resolution + x] = x;
    const features = await extractor.extract(batch, 1);
    const G = extractor.grid;
    for (const x of [0, 5, 27, 40, 55]) {
      const p = (10 * G + x) * 6;
      expect(features[p]).toBeCloseTo(x * 8 + 3.5, 3); // fine: the 8-pixel block's mean
      // coarse: 16-pixel block means (7.5, 23.5, ...) at half-cell centres, bilinear between them, clamped at the ends
      const s = Math.min(Math.max((x + 0.5) / 2 - 0.5, 0), 27);
      expect(features[p + 3]).toBeCloseTo(s * 16 + 7.5, 2);
    }
    await extractor.release();
  });

  it('refuses a resolution off the lattice before opening a session', async () => {
    await expect(FeatureExtractor.create(backbone, undefined, { resolution: 450 })).rejects.toThrow(/multiple of 8/);
  });
});

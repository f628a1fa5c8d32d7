import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackboneManifest, FeatureTensor } from '../../../functions/engine/backbone/backbone-manifest.ts';
import { deriveFeatureModel, FEATURES_OUTPUT } from '../../../functions/engine/backbone/feature-model.ts';
import { BackboneError } from '../../../functions/engine/errors.ts';
import { resizeBilinear } from '../../../functions/engine/math/resize-bilinear.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { createSession } from '../../../functions/engine/onnx/create-session.ts';
import { onnx } from '../../../functions/engine/onnx/onnx-proto.ts';
import {
  buildTinyBackbone,
  referenceTensors,
  TINY_A_CHANNELS,
  TINY_B_CHANNELS,
  TINY_QUANT_SCALE,
  TINY_QUANT_ZERO_POINT,
  TINY_SIZE,
  tinyManifest,
} from './tiny-backbone.ts';

const MODEL = buildTinyBackbone();
const MANIFEST = tinyManifest(MODEL);
const BATCH = 2;
const PLANE = TINY_SIZE * TINY_SIZE;

const tensorOf = (manifest: BackboneManifest, name: string): FeatureTensor => {
  const t = manifest.tensors.find((x) => x.tensor === name);
  if (!t) throw new Error(`no tensor ${name}`);
  return t;
};

/** A deterministic NCHW batch of BATCH images. */
function makeBatch(seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: BATCH * 3 * PLANE }, () => random() * 4 - 2);
}

/** k x k mean, stride 1, zero padding (k - 1) / 2, always divided by k^2 (count_include_pad). */
function referenceAvgPool(plane: Float32Array, side: number, k = 3): Float32Array {
  const out = new Float32Array(side * side);
  const r = (k - 1) / 2;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let sum = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < side && xx >= 0 && xx < side) sum += plane[yy * side + xx];
        }
      }
      out[y * side + x] = sum / (k * k);
    }
  }
  return out;
}

/** Pools each channel plane of a CHW tensor and resizes it to `grid`; returns the list of planes. */
function pooledPlanes(chw: Float32Array, channels: number, side: number, grid: number, k = 3): Float32Array[] {
  const planes: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const pooled = referenceAvgPool(chw.subarray(c * side * side, (c + 1) * side * side), side, k);
    planes.push(side === grid ? pooled : resizeBilinear(pooled, side, side, grid, grid));
  }
  return planes;
}

/** Brute-force features [BATCH, grid, grid, channels] from per-image planes, in the given order. */
function assembleHwc(perImage: Float32Array[][], grid: number): Float32Array {
  const channels = perImage[0].length;
  const out = new Float32Array(perImage.length * grid * grid * channels);
  perImage.forEach((planes, n) => {
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        for (let c = 0; c < channels; c++) out[((n * grid + y) * grid + x) * channels + c] = planes[c][y * grid + x];
      }
    }
  });
  return out;
}

function expectAllClose(got: Float32Array, expected: Float32Array, tolerance: number): void {
  expect(got.length).toBe(expected.length);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(got[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      worstAt = i;
    }
  }
  expect(
    worst,
    `largest difference at index ${worstAt}: got ${got[worstAt]}, expected ${expected[worstAt]}`,
  ).toBeLessThanOrEqual(tolerance);
}

const sessions: ort.InferenceSession[] = [];
async function runFeatures(derived: Uint8Array, batch: Float32Array): Promise<ort.Tensor> {
  const session = await createSession(derived, { providers: ['cpu'], threads: 1 });
  sessions.push(session);
  expect(session.outputNames).toEqual([FEATURES_OUTPUT]);
  const out = await session.run({ input: new ort.Tensor('float32', batch, [BATCH, 3, TINY_SIZE, TINY_SIZE]) });
  return out[FEATURES_OUTPUT];
}

afterAll(async () => {
  for (const s of sessions) await s.release();
});

describe('deriveFeatureModel on a tiny in-code backbone', () => {
  let batch: Float32Array;
  let refs: { a: Float32Array; b: Float32Array }[];

  beforeAll(() => {
    batch = makeBatch(5);
    refs = Array.from({ length: BATCH }, (_, n) =>
      referenceTensors(batch.subarray(n * 3 * PLANE, (n + 1) * 3 * PLANE)),
    );
  });

  it('pools, upsamples and concatenates a then b into [N, grid, grid, channels] like the brute-force reference', async () => {
    const layers = [tensorOf(MANIFEST, 'a'), tensorOf(MANIFEST, 'b')];
    const derived = deriveFeatureModel(MODEL, MANIFEST, layers, 'tiny.onnx');
    const out = await runFeatures(derived, batch);
    expect(out.dims).toEqual([BATCH, 16, 16, TINY_A_CHANNELS + TINY_B_CHANNELS]);
    expect(out.type).toBe('float32');

    const expected = assembleHwc(
      refs.map((r) => [...pooledPlanes(r.a, TINY_A_CHANNELS, 16, 16), ...pooledPlanes(r.b, TINY_B_CHANNELS, 8, 16)]),
      16,
    );
    expectAllClose(out.data as Float32Array, expected, 1e-4);
    // The corner cell proves padding is counted: its 3x3 window holds 4 real values, the mean still divides by 9.
    const a0 = refs[0].a;
    const corner = (a0[0] + a0[1] + a0[16] + a0[17]) / 9;
    expect((out.data as Float32Array)[0]).toBeCloseTo(corner, 5);
  });

  it.each([5, 7])(
    'with aggregation %i averages k x k neighbourhoods (padding counted) like the brute-force reference',
    async (k) => {
      const layers = [tensorOf(MANIFEST, 'a'), tensorOf(MANIFEST, 'b')];
      const out = await runFeatures(deriveFeatureModel(MODEL, MANIFEST, layers, 'tiny.onnx', k), batch);
      expect(out.dims).toEqual([BATCH, 16, 16, TINY_A_CHANNELS + TINY_B_CHANNELS]);
      const expected = assembleHwc(
        refs.map((r) => [
          ...pooledPlanes(r.a, TINY_A_CHANNELS, 16, 16, k),
          ...pooledPlanes(r.b, TINY_B_CHANNELS, 8, 16, k),
        ]),
        16,
      );
      expectAllClose(out.data as Float32Array, expected, 1e-4);
      // Not the 3 x 3 result: the wider window changes every cell.
      const narrow = assembleHwc(
        refs.map((r) => [...pooledPlanes(r.a, TINY_A_CHANNELS, 16, 16), ...pooledPlanes(r.b, TINY_B_CHANNELS, 8, 16)]),
        16,
      );
      expect(Math.abs((out.data as Float32Array)[0] - narrow[0])).toBeGreaterThan(1e-3);
    },
  );

  it('with aggregation 1 keeps each cell as it is (no averaging)', async () => {
    const out = await runFeatures(
      deriveFeatureModel(MODEL, MANIFEST, [tensorOf(MANIFEST, 'a')], 'tiny.onnx', 1),
      batch,
    );
    const expected = assembleHwc(
      refs.map((r) => pooledPlanes(r.a, TINY_A_CHANNELS, 16, 16, 1)),
      16,
    );
    expectAllClose(out.data as Float32Array, expected, 1e-5);
  });

  it('refuses an aggregation that is not an odd side from 1 to 7', () => {
    for (const k of [0, 2, 4, 9, 3.5]) {
      expect(() => deriveFeatureModel(MODEL, MANIFEST, [tensorOf(MANIFEST, 'a')], 'tiny.onnx', k)).toThrow(
        BackboneError,
      );
    }
  });

  it('concatenates in the order the layers are given, on the finest grid', async () => {
    const layers = [tensorOf(MANIFEST, 'b'), tensorOf(MANIFEST, 'a')];
    const out = await runFeatures(deriveFeatureModel(MODEL, MANIFEST, layers, 'tiny.onnx'), batch);
    expect(out.dims).toEqual([BATCH, 16, 16, 5]);
    const expected = assembleHwc(
      refs.map((r) => [...pooledPlanes(r.b, TINY_B_CHANNELS, 8, 16), ...pooledPlanes(r.a, TINY_A_CHANNELS, 16, 16)]),
      16,
    );
    expectAllClose(out.data as Float32Array, expected, 1e-4);
  });

  it("with only the coarse layer the grid is that layer's own (8x8, no resize)", async () => {
    const out = await runFeatures(deriveFeatureModel(MODEL, MANIFEST, [tensorOf(MANIFEST, 'b')], 'tiny.onnx'), batch);
    expect(out.dims).toEqual([BATCH, 8, 8, 3]);
    const expected = assembleHwc(
      refs.map((r) => pooledPlanes(r.b, TINY_B_CHANNELS, 8, 8)),
      8,
    );
    expectAllClose(out.data as Float32Array, expected, 1e-4);
  });

  it('prunes the classifier head and declares a single [batch, grid, grid, channels] float output', () => {
    const derived = deriveFeatureModel(
      MODEL,
      MANIFEST,
      [tensorOf(MANIFEST, 'a'), tensorOf(MANIFEST, 'b')],
      'tiny.onnx',
    );
    const graph = onnx.ModelProto.decode(derived).graph!;
    const ops = (graph.node ?? []).map((n) => n.opType);
    expect(ops).not.toContain('GlobalAveragePool');
    expect(ops).not.toContain('Flatten');
    expect(ops).not.toContain('QuantizeLinear');
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(2);
    expect(ops.filter((o) => o === 'AveragePool')).toHaveLength(2);
    expect(ops.filter((o) => o === 'Resize')).toHaveLength(1);
    expect(ops.at(-1)).toBe('Transpose');
    const initialisers = (graph.initializer ?? []).map((t) => t.name);
    expect(initialisers).not.toContain('q_scale');
    expect(initialisers).toEqual(expect.arrayContaining(['w1', 'b1', 'w2', 'b2']));
    expect(graph.output).toHaveLength(1);
    const output = graph.output![0];
    expect(output.name).toBe(FEATURES_OUTPUT);
    expect(output.type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(output.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual([
      'batch',
      16,
      16,
      5,
    ]);
  });

  it('dequantises a uint8 tensor made by QuantizeLinear with its scale and zero point before pooling', async () => {
    // The quantised values come from the original model itself, so rounding ties cannot make the reference differ.
    const original = await createSession(MODEL, { providers: ['cpu'], threads: 1 });
    sessions.push(original);
    const raw = await original.run({ input: new ort.Tensor('float32', batch, [BATCH, 3, TINY_SIZE, TINY_SIZE]) });
    const q = raw.a_quantized.data as Uint8Array;
    expect(raw.a_quantized.type).toBe('uint8');
    const dequantised = Float32Array.from(q, (v) => (v - TINY_QUANT_ZERO_POINT) * TINY_QUANT_SCALE);
    const aSize = TINY_A_CHANNELS * 16 * 16;
    // Sanity: the quantisation is the one the reference float tensor a rounds to.
    for (let n = 0; n < BATCH; n++) {
      for (let i = 0; i < aSize; i++) {
        const a = Math.min(
          Math.max(refs[n].a[i], -TINY_QUANT_ZERO_POINT * TINY_QUANT_SCALE),
          (255 - TINY_QUANT_ZERO_POINT) * TINY_QUANT_SCALE,
        );
        expect(Math.abs(dequantised[n * aSize + i] - a)).toBeLessThanOrEqual(TINY_QUANT_SCALE / 2 + 1e-5);
      }
    }

    const derived = deriveFeatureModel(MODEL, MANIFEST, [tensorOf(MANIFEST, 'a_quantized')], 'tiny.onnx');
    const ops = (onnx.ModelProto.decode(derived).graph?.node ?? []).map((n) => n.opType);
    expect(ops).toContain('DequantizeLinear');
    const out = await runFeatures(derived, batch);
    expect(out.type).toBe('float32');
    expect(out.dims).toEqual([BATCH, 16, 16, 2]);
    const expected = assembleHwc(
      Array.from({ length: BATCH }, (_, n) =>
        pooledPlanes(dequantised.subarray(n * aSize, (n + 1) * aSize), TINY_A_CHANNELS, 16, 16),
      ),
      16,
    );
    expectAllClose(out.data as Float32Array, expected, 1e-5);
  });
});

describe('deriveFeatureModel errors', () => {
  const catchError = (fn: () => unknown): BackboneError => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(BackboneError);
      return error as BackboneError;
    }
    throw new Error('expected a BackboneError');
  };

  it('refuses a manifest tensor that is not in the graph, naming it', () => {
    const missing: FeatureTensor = { tensor: 'features.7.missing', stride: 2, channels: 2 };
    const error = catchError(() =>
      deriveFeatureModel(MODEL, MANIFEST, [tensorOf(MANIFEST, 'a'), missing], 'tiny.onnx'),
    );
    expect(error.code).toBe('BACKBONE_TENSOR_NOT_FOUND');
    expect(error.message).toContain('features.7.missing');
    expect(error.message).toContain('tiny.onnx');
    expect(error.details).toMatchObject({ tensor: 'features.7.missing', file: 'tiny.onnx' });
  });

  it('refuses a model whose tensors were renamed', () => {
    const renamed = buildTinyBackbone({ aName: 'a_renamed' });
    const error = catchError(() => deriveFeatureModel(renamed, MANIFEST, [tensorOf(MANIFEST, 'a')], 'renamed.onnx'));
    expect(error.code).toBe('BACKBONE_TENSOR_NOT_FOUND');
    expect(error.message).toContain('no tensor named a ');
  });

  it('refuses a manifest whose input name is not an input of the graph', () => {
    const manifest = tinyManifest(MODEL, { input: { ...MANIFEST.input, name: 'pixels' } });
    const error = catchError(() => deriveFeatureModel(MODEL, manifest, [tensorOf(MANIFEST, 'a')], 'tiny.onnx'));
    expect(error.code).toBe('BACKBONE_TENSOR_NOT_FOUND');
    expect(error.message).toContain('pixels');
  });

  it('refuses bytes that are not an ONNX model', () => {
    const error = catchError(() =>
      deriveFeatureModel(
        Buffer.from('definitely not an onnx model, just some text'),
        MANIFEST,
        [tensorOf(MANIFEST, 'a')],
        'text.onnx',
      ),
    );
    expect(error.code).toBe('BACKBONE_MANIFEST_INVALID');
    expect(error.message).toContain('text.onnx');
  });

  it('refuses an empty protobuf (no graph)', () => {
    const error = catchError(() =>
      deriveFeatureModel(new Uint8Array(0), MANIFEST, [tensorOf(MANIFEST, 'a')], 'empty.onnx'),
    );
    expect(error.code).toBe('BACKBONE_MANIFEST_INVALID');
    expect(error.message).toBe('empty.onnx has no graph');
  });

  it('refuses opsets older than 11', () => {
    const old = buildTinyBackbone({ opset: 10 });
    const error = catchError(() => deriveFeatureModel(old, MANIFEST, [tensorOf(MANIFEST, 'a')], 'old.onnx'));
    expect(error.code).toBe('BACKBONE_MANIFEST_INVALID');
    expect(error.message).toContain('opset 10');
  });
});

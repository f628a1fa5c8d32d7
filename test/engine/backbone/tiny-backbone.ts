/**
 * A tiny convolutional "backbone" built in code, for the feature-model and backbone-preparation tests:
 *
 *   input [N,3,32,32] --Conv(3x3, stride 2, pad 1)--> a [N,2,16,16]   (stride 2)
 *   a --Relu--> a_relu --Conv(3x3, stride 2, pad 1)--> b [N,3,8,8]    (stride 4)
 *   a --QuantizeLinear(scale, zero point, uint8)--> a_quantized      (stride 2, for the dequantise path)
 *   b --GlobalAveragePool--> Flatten --> logits [N,3]                (a "classifier head" the derivation must prune)
 *
 * The weights are fixed pseudo-random numbers, so every test sees the same network. `referenceConv` computes the
 * convolutions in plain TypeScript so the tests can check the derived model against a brute-force computation.
 */
import { createHash } from 'node:crypto';
import type { BackboneManifest } from '../../../functions/engine/backbone/backbone-manifest.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { DataType, floatTensor, node, valueInfo } from '../../../functions/engine/onnx/graph-builder.ts';
import { onnx, type TensorProto } from '../../../functions/engine/onnx/onnx-proto.ts';

export const TINY_SIZE = 32;
export const TINY_A_CHANNELS = 2;
export const TINY_B_CHANNELS = 3;
export const TINY_QUANT_SCALE = 0.02;
export const TINY_QUANT_ZERO_POINT = 128;

function randomArray(length: number, seed: number, scale: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length }, () => (random() * 2 - 1) * scale);
}

export interface TinyWeights {
  w1: Float32Array; // [2,3,3,3]
  b1: Float32Array; // [2]
  w2: Float32Array; // [3,2,3,3]
  b2: Float32Array; // [3]
}

export const TINY_WEIGHTS: TinyWeights = {
  w1: randomArray(2 * 3 * 3 * 3, 11, 0.5),
  b1: Float32Array.from([0.1, -0.2]),
  w2: randomArray(3 * 2 * 3 * 3, 12, 0.5),
  b2: Float32Array.from([0.05, 0, -0.05]),
};

function uint8Scalar(name: string, value: number): TensorProto {
  return { name, dims: [], dataType: DataType.UINT8, rawData: Uint8Array.of(value) };
}

/** Options to damage the model: e.g. rename a tensor so a manifest no longer matches. */
export interface TinyModelOptions {
  /** ONNX opset of the default domain (the engine needs >= 11). */
  opset?: number;
  /** Name of the first convolution's output (default 'a'). */
  aName?: string;
}

/** The serialised ONNX model. */
export function buildTinyBackbone(options: TinyModelOptions = {}): Uint8Array {
  const a = options.aName ?? 'a';
  const conv = { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } };
  const model = {
    irVersion: 7,
    producerName: 'faultline-tests',
    opsetImport: [{ domain: '', version: options.opset ?? 13 }],
    graph: {
      name: 'tiny',
      node: [
        node('Conv', ['input', 'w1', 'b1'], [a], conv, 'conv1'),
        node('Relu', [a], ['a_relu'], {}, 'relu1'),
        node('Conv', ['a_relu', 'w2', 'b2'], ['b'], conv, 'conv2'),
        node('QuantizeLinear', [a, 'q_scale', 'q_zero_point'], ['a_quantized'], {}, 'quantize_a'),
        node('GlobalAveragePool', ['b'], ['pooled'], {}, 'head_pool'),
        node('Flatten', ['pooled'], ['logits'], {}, 'head_flatten'),
      ],
      initializer: [
        floatTensor('w1', [2, 3, 3, 3], TINY_WEIGHTS.w1),
        floatTensor('b1', [2], TINY_WEIGHTS.b1),
        floatTensor('w2', [3, 2, 3, 3], TINY_WEIGHTS.w2),
        floatTensor('b2', [3], TINY_WEIGHTS.b2),
        floatTensor('q_scale', [], Float32Array.of(TINY_QUANT_SCALE)),
        uint8Scalar('q_zero_point', TINY_QUANT_ZERO_POINT),
      ],
      input: [valueInfo('input', DataType.FLOAT, ['N', 3, TINY_SIZE, TINY_SIZE])],
      output: [
        valueInfo('logits', DataType.FLOAT, ['N', 3]),
        valueInfo('a_quantized', DataType.UINT8, ['N', 2, 16, 16]),
      ],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A backbone manifest (valid for backboneManifestSchema) describing the tiny model. */
export function tinyManifest(bytes: Uint8Array, overrides: Partial<BackboneManifest> = {}): BackboneManifest {
  return {
    id: 'tiny-test',
    file: 'tiny-test.onnx',
    sha256: sha256Hex(bytes),
    bytes: bytes.byteLength,
    url: 'https://models.example.test/tiny-test.onnx',
    licence: 'Apache-2.0',
    input: { name: 'input', size: TINY_SIZE, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    tensors: [
      { tensor: 'a', stride: 2, channels: TINY_A_CHANNELS },
      { tensor: 'b', stride: 4, channels: TINY_B_CHANNELS },
      { tensor: 'a_quantized', stride: 2, channels: TINY_A_CHANNELS },
    ],
    defaultLayers: ['a', 'b'],
    ...overrides,
  };
}

/** Plain 2-D convolution (NCHW, 3x3 kernel, stride 2, zero padding 1) of one image. */
export function referenceConv(
  x: Float32Array,
  inC: number,
  inSide: number,
  w: Float32Array,
  bias: Float32Array,
  outC: number,
): Float32Array {
  const outSide = inSide / 2;
  const out = new Float32Array(outC * outSide * outSide);
  for (let o = 0; o < outC; o++) {
    for (let oy = 0; oy < outSide; oy++) {
      for (let ox = 0; ox < outSide; ox++) {
        let sum = bias[o];
        for (let c = 0; c < inC; c++) {
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              const iy = oy * 2 - 1 + ky;
              const ix = ox * 2 - 1 + kx;
              if (iy < 0 || iy >= inSide || ix < 0 || ix >= inSide) continue;
              sum += x[(c * inSide + iy) * inSide + ix] * w[((o * inC + c) * 3 + ky) * 3 + kx];
            }
          }
        }
        out[(o * outSide + oy) * outSide + ox] = sum;
      }
    }
  }
  return out;
}

/** The tensors a and b of the tiny model for one CHW image, computed in TypeScript. */
export function referenceTensors(image: Float32Array): { a: Float32Array; b: Float32Array } {
  const a = referenceConv(image, 3, TINY_SIZE, TINY_WEIGHTS.w1, TINY_WEIGHTS.b1, TINY_A_CHANNELS);
  const relu = a.map((v) => Math.max(0, v));
  const b = referenceConv(relu, TINY_A_CHANNELS, TINY_SIZE / 2, TINY_WEIGHTS.w2, TINY_WEIGHTS.b2, TINY_B_CHANNELS);
  return { a, b };
}

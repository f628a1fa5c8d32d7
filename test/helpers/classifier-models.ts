/**
 * A multi-head ONNX image classifier built in code, with known weights, for the classification tests:
 *
 *   input [N,3,16,16] --GlobalAveragePool--> [N,3,1,1] --Flatten--> mean colour m [N,3] (normalised by the spec)
 *   skin   = m @ W_SKIN   + B_SKIN    [N,3]  one output per head (softmax: dry, normal, oily)
 *   shared = m @ W_SHARED + B_SHARED  [N,5]  two heads in one logits tensor: hair_type (columns 0..1, softmax) and
 *                                            conditions_detected (columns 2..4, sigmoid at 0.5)
 *
 * With the spec's normalisation (x / 255), a pure red image gives m = [1, 0, 0], so every logit is a row of the
 * weights plus the bias: the tests can say what each head must answer.
 */
import sharp from 'sharp';
import type { ClassifierSpecInput } from '../../functions/engine/classification/classifier-spec.ts';
import { DataType, floatTensor, node, valueInfo } from '../../functions/engine/onnx/graph-builder.ts';
import { onnx } from '../../functions/engine/onnx/onnx-proto.ts';

export const TEST_SIZE = 16;

// Rows: red, green, blue contributions to each class.
export const W_SKIN = [
  [4, 0, 0], // red -> dry
  [0, 4, 0], // green -> normal
  [0, 0, 4], // blue -> oily
];
export const B_SKIN = [0, 0, 0];
export const W_SHARED = [
  [3, -3, 5, -5, 5], // red: hair straight; conditions acne and redness
  [-3, 3, -5, 5, -5], // green: hair curly; condition dryness
  [0, 0, -5, -5, -5], // blue: nothing
];
export const B_SHARED = [0, 0, 0, 0, 0];

export interface TestClassifierOptions {
  opset?: number;
  /** Name of the image input (default 'image'). */
  inputName?: string;
  /** Side of the input (default 16). */
  size?: number;
  /** Columns of the shared output (default 5): fewer makes the spec's slices wrong. */
  sharedColumns?: number;
}

const flat = (rows: number[][], columns: number) =>
  Float32Array.from(rows.flatMap((r) => r.slice(0, columns).concat(Array(Math.max(0, columns - r.length)).fill(0))));

export function buildTestClassifier(options: TestClassifierOptions = {}): Uint8Array {
  const input = options.inputName ?? 'image';
  const size = options.size ?? TEST_SIZE;
  const columns = options.sharedColumns ?? 5;
  const model = {
    irVersion: 7,
    producerName: 'faultline-tests',
    opsetImport: [{ domain: '', version: options.opset ?? 13 }],
    graph: {
      name: 'test-classifier',
      node: [
        node('GlobalAveragePool', [input], ['pooled']),
        node('Flatten', ['pooled'], ['mean_colour']),
        node('Gemm', ['mean_colour', 'w_skin', 'b_skin'], ['skin']),
        node('Gemm', ['mean_colour', 'w_shared', 'b_shared'], ['shared']),
      ],
      initializer: [
        floatTensor('w_skin', [3, 3], flat(W_SKIN, 3)),
        floatTensor('b_skin', [3], Float32Array.from(B_SKIN)),
        floatTensor('w_shared', [3, columns], flat(W_SHARED, columns)),
        floatTensor('b_shared', [columns], Float32Array.from(B_SHARED.slice(0, columns))),
      ],
      input: [valueInfo(input, DataType.FLOAT, ['batch', 3, size, size])],
      output: [
        valueInfo('skin', DataType.FLOAT, ['batch', 3]),
        valueInfo('shared', DataType.FLOAT, ['batch', columns]),
      ],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

/** The spec that reads the test classifier: three heads, two of them slices of one output. */
export const testClassifierSpec = (): ClassifierSpecInput => ({
  input: { name: 'image', width: TEST_SIZE, height: TEST_SIZE, resize: 'stretch', normalise: { scale: 1 / 255 } },
  heads: [
    { name: 'skin_type', output: 'skin', classes: ['dry', 'normal', 'oily'], activation: 'softmax' },
    {
      name: 'hair_type',
      output: 'shared',
      slice: { start: 0, end: 2 },
      classes: ['straight', 'curly'],
      activation: 'softmax',
    },
    {
      name: 'conditions_detected',
      output: 'shared',
      slice: { start: 2, end: 5 },
      classes: ['acne', 'dryness', 'redness'],
      activation: 'sigmoid',
      threshold: 0.5,
    },
  ],
});

/** A plain-colour PNG. */
export const colourPng = (r: number, g: number, b: number, side = 24): Promise<Buffer> =>
  sharp({ create: { width: side, height: side, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();

/**
 * YOLO-layout ONNX graphs built in code, whose boxes are known, for the object detector tests.
 *
 * The "rectangle finder" finds the bright rectangle in its (letterboxed) input: per column and row the brightest
 * channel value, thresholded at 0.8 (above the grey padding), and the first and last bright column and row by ArgMax
 * give the box. Its score is the mean of the whole input, so it also tells whether the padding was right. It proposes
 * four boxes: the box itself (class 1), the box one pixel to the right at 0.9 of the score (class 1: suppressed by
 * NMS), the box at 0.8 of the score as class 2 (kept: NMS is per class), and a fixed low-scored box (class 0).
 */
import sharp from 'sharp';
import { DataType, floatTensor, int64Tensor, node, valueInfo } from '../../../functions/engine/onnx/graph-builder.ts';
import { onnx, type NodeProto, type TensorProto } from '../../../functions/engine/onnx/onnx-proto.ts';
import type { YoloLayout } from '../../../functions/engine/object-detection/detector-spec.ts';

export const FINDER_CLASSES = ['scratch', 'dent', 'stain'];
/** The fixed box's score: below any threshold the tests use. */
export const FIXED_BOX_SCORE = 0.01;

function model(
  nodes: NodeProto[],
  initializer: TensorProto[],
  inputDims: (number | string)[],
  outputDims: (number | string)[],
  inputName = 'images',
): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 7,
    producerName: 'faultline-tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'yolo-test',
      node: nodes,
      initializer,
      input: [valueInfo(inputName, DataType.FLOAT, inputDims)],
      output: [valueInfo('output0', DataType.FLOAT, outputDims)],
    },
  }).finish();
}

const scalar = (name: string, v: number) => floatTensor(name, [], Float32Array.of(v));
const oneHot = (name: string, classes: number, k: number) =>
  floatTensor(
    name,
    [1, classes],
    Float32Array.from({ length: classes }, (_, i) => (i === k ? 1 : 0)),
  );

export function buildRectangleFinder(layout: YoloLayout, width: number, height: number): Uint8Array {
  const C = FINDER_CLASSES.length;
  const K = layout === 'v5' ? 5 + C : 4 + C;
  const nodes: NodeProto[] = [
    node('ReduceMax', ['images'], ['chmax'], { axes: { ints: [1] }, keepdims: { int: 0 } }),
    node('ReduceMax', ['chmax'], ['col'], { axes: { ints: [1] }, keepdims: { int: 0 } }),
    node('ReduceMax', ['chmax'], ['row'], { axes: { ints: [2] }, keepdims: { int: 0 } }),
  ];
  for (const axis of ['col', 'row']) {
    const [lo, hi] = axis === 'col' ? ['x1', 'x2'] : ['y1', 'y2'];
    nodes.push(
      node('Greater', [axis, 'bright'], [`${axis}_b`]),
      node('Cast', [`${axis}_b`], [`${axis}_m`], { to: { int: DataType.FLOAT } }),
      node('ArgMax', [`${axis}_m`], [`${lo}_i`], { axis: { int: 1 }, keepdims: { int: 1 } }),
      node('ArgMax', [`${axis}_m`], [`${hi}_i`], {
        axis: { int: 1 },
        keepdims: { int: 1 },
        select_last_index: { int: 1 },
      }),
      node('Cast', [`${lo}_i`], [lo], { to: { int: DataType.FLOAT } }),
      node('Cast', [`${hi}_i`], [`${hi}_last`], { to: { int: DataType.FLOAT } }),
      node('Add', [`${hi}_last`, 'one'], [hi]),
      node('Add', [lo, hi], [`${lo}_sum`]),
      node('Mul', [`${lo}_sum`, 'half'], [axis === 'col' ? 'cx' : 'cy']),
      node('Sub', [hi, lo], [axis === 'col' ? 'w' : 'h']),
    );
  }
  nodes.push(
    node('ReduceMean', ['images'], ['mean1'], { axes: { ints: [1, 2, 3] }, keepdims: { int: 0 } }),
    node('Reshape', ['mean1', 'shape11'], ['mean']),
    node('Add', ['cx', 'one'], ['cx_right']),
  );
  const initializer: TensorProto[] = [
    scalar('bright', 0.8),
    scalar('one', 1),
    scalar('half', 0.5),
    int64Tensor('shape11', [1, 1]),
  ];
  const anchors = [
    { cx: 'cx', k: 1, factor: 1 },
    { cx: 'cx_right', k: 1, factor: 0.9 },
    { cx: 'cx', k: 2, factor: 0.8 },
  ];
  const rows: string[] = [];
  anchors.forEach((a, i) => {
    initializer.push(scalar(`f${i}`, a.factor), oneHot(`hot${i}`, C, a.k));
    nodes.push(
      node('Concat', [a.cx, 'cy', 'w', 'h'], [`box${i}`], { axis: { int: 1 } }),
      node('Mul', ['mean', `f${i}`], [`s${i}`]),
    );
    if (layout === 'v5') {
      nodes.push(node('Concat', [`box${i}`, `s${i}`, `hot${i}`], [`row${i}`], { axis: { int: 1 } }));
    } else {
      nodes.push(
        node('Mul', [`hot${i}`, `s${i}`], [`cls${i}`]),
        node('Concat', [`box${i}`, `cls${i}`], [`row${i}`], { axis: { int: 1 } }),
      );
    }
    rows.push(`row${i}`);
  });
  const fixed = layout === 'v5' ? [10, 10, 6, 6, FIXED_BOX_SCORE, 1, 0, 0] : [10, 10, 6, 6, FIXED_BOX_SCORE, 0, 0];
  initializer.push(floatTensor('fixed', [1, K], Float32Array.from(fixed)));
  rows.push('fixed');
  const N = rows.length;
  nodes.push(node('Concat', rows, ['rows'], { axis: { int: 0 } }));
  if (layout === 'v5') {
    initializer.push(int64Tensor('out_shape', [1, N, K]));
    nodes.push(node('Reshape', ['rows', 'out_shape'], ['output0']));
  } else {
    initializer.push(int64Tensor('out_shape', [1, K, N]));
    nodes.push(
      node('Transpose', ['rows'], ['cols'], { perm: { ints: [1, 0] } }),
      node('Reshape', ['cols', 'out_shape'], ['output0']),
    );
  }
  return model(nodes, initializer, [1, 3, height, width], layout === 'v5' ? [1, N, K] : [1, K, N]);
}

/** A model whose output is the given constant whatever the input (the input still flows in, times zero). */
export function buildConstantOutput(
  dims: number[],
  values: Float32Array,
  options: { inputDims?: (number | string)[]; inputName?: string } = {},
): Uint8Array {
  const inputName = options.inputName ?? 'images';
  return model(
    [
      node('ReduceMean', [inputName], ['mean'], { keepdims: { int: 0 } }),
      node('Mul', ['mean', 'zero'], ['nothing']),
      node('Add', ['constant', 'nothing'], ['output0']),
    ],
    [floatTensor('constant', dims, values), scalar('zero', 0)],
    options.inputDims ?? [1, 3, 64, 64],
    dims,
    inputName,
  );
}

/** A v8 output [1, 4 + C, N] from rows of (cx, cy, w, h, class scores...). */
export function v8Output(rows: number[][]): { dims: number[]; values: Float32Array } {
  const K = rows[0].length;
  const N = rows.length;
  const values = new Float32Array(K * N);
  rows.forEach((r, n) => r.forEach((v, k) => (values[k * N + n] = v)));
  return { dims: [1, K, N], values };
}

/** A black PNG with one white rectangle. */
export async function rectangleImage(
  width: number,
  height: number,
  rect: { x: number; y: number; width: number; height: number },
): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = rect.y; y < rect.y + rect.height; y++)
    raw.fill(255, (y * width + rect.x) * 3, (y * width + rect.x + rect.width) * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * A YOLO-shaped model built in code for the object detector benchmark (no weights are committed or downloaded):
 * a 640 x 640 input through five stride-2 3x3 convolutions (16, 32, 64, 128, 256 channels, ReLU), three 1x1 heads on
 * the stride 8, 16 and 32 maps giving 4 + 80 values per cell, concatenated into the v8 layout [1, 84, 8400] that an
 * Ultralytics export gives for 80 classes. About 1.3 GFLOPs (YOLOv8n: 8.7): the pre- and post-processing, which the
 * figure compares, weigh relatively more than with a real model. Boxes are sigmoid x 640 (centres) and x 160 (sizes);
 * class scores sigmoid(logit + CLASS_BIAS), so a few dozen random cells pass the confidence threshold and NMS has work.
 */
import { seededRandom } from '../../functions/engine/math/random.ts';
import { DataType, floatTensor, int64Tensor, node, valueInfo } from '../../functions/engine/onnx/graph-builder.ts';
import { onnx, type NodeProto, type TensorProto } from '../../functions/engine/onnx/onnx-proto.ts';

export const BENCH_SIZE = 640;
export const BENCH_CLASSES = 80;
/** Class logit bias: with it a few dozen of the 8400 cells score above 0.25, as in a busy real scene. */
const CLASS_BIAS = -1;

export function buildBenchYolo(): Uint8Array {
  const random = seededRandom(7);
  const weights = (n: number, fanIn: number) =>
    Float32Array.from({ length: n }, () => (random() * 2 - 1) * Math.sqrt(3 / fanIn));
  const nodes: NodeProto[] = [];
  const init: TensorProto[] = [];
  const channels = [3, 16, 32, 64, 128, 256];
  let previous = 'images';
  for (let i = 1; i < channels.length; i++) {
    const [cin, cout] = [channels[i - 1], channels[i]];
    init.push(
      floatTensor(`w${i}`, [cout, cin, 3, 3], weights(cout * cin * 9, cin * 9)),
      floatTensor(`b${i}`, [cout], new Float32Array(cout)),
    );
    const conv = { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } };
    nodes.push(node('Conv', [previous, `w${i}`, `b${i}`], [`c${i}`], conv), node('Relu', [`c${i}`], [`r${i}`]));
    previous = `r${i}`;
  }
  const K = 4 + BENCH_CLASSES;
  const bias = Float32Array.from({ length: K }, (_, k) => (k < 4 ? 0 : CLASS_BIAS));
  const scale = Float32Array.from({ length: K }, (_, k) => (k < 2 ? BENCH_SIZE : k < 4 ? BENCH_SIZE / 4 : 1));
  init.push(
    floatTensor('head_bias', [K], bias),
    floatTensor('scale', [1, K, 1], scale),
    int64Tensor('flat', [1, K, -1]),
  );
  const heads = [3, 4, 5].map((stage) => {
    const cin = channels[stage];
    init.push(floatTensor(`hw${stage}`, [K, cin, 1, 1], weights(K * cin, cin)));
    nodes.push(
      node('Conv', [`r${stage}`, `hw${stage}`, 'head_bias'], [`h${stage}`]),
      node('Reshape', [`h${stage}`, 'flat'], [`f${stage}`]),
    );
    return `f${stage}`;
  });
  nodes.push(
    node('Concat', heads, ['raw'], { axis: { int: 2 } }),
    node('Sigmoid', ['raw'], ['activated']),
    node('Mul', ['activated', 'scale'], ['output0']),
  );
  return onnx.ModelProto.encode({
    irVersion: 7,
    producerName: 'faultline-bench',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'bench-yolo',
      node: nodes,
      initializer: init,
      input: [valueInfo('images', DataType.FLOAT, [1, 3, BENCH_SIZE, BENCH_SIZE])],
      output: [valueInfo('output0', DataType.FLOAT, [1, K, 8400])],
    },
  }).finish();
}

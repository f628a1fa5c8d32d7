import { BackboneError } from '../errors.ts';
import { DataType, floatTensor, node, valueInfo } from '../onnx/graph-builder.ts';
import { onnx, type ModelProto, type NodeProto } from '../onnx/onnx-proto.ts';

export const POOLED_OUTPUT = 'faultline_pooled';
export const PROBABILITIES_OUTPUT = 'probabilities';

const CLASSIFIER_OPS = new Set(['Gemm', 'MatMul', 'QLinearMatMul']);
const PASS_THROUGH = new Set(['DequantizeLinear', 'QuantizeLinear', 'Add', 'QLinearAdd', 'Identity', 'Softmax']);

/**
 * The backbone's pooled features as a graph output: an ImageNet classifier ends in global pooling, a flatten and one
 * fully connected layer; the input of that layer (dequantised when the backbone is int8) is the image's feature
 * vector. Walks back from the graph's output through the layer's bias and (de)quantisation to find it.
 */
function pooledFeatures(model: ModelProto, fileName: string): { nodes: NodeProto[]; tensor: string; dims: number } {
  const graph = model.graph!;
  const producers = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producers.set(o, n);
  let current = producers.get(graph.output?.[0]?.name ?? '');
  while (current && !CLASSIFIER_OPS.has(current.opType ?? '') && PASS_THROUGH.has(current.opType ?? ''))
    current = producers.get(current.input?.[0] ?? '');
  if (!current || !CLASSIFIER_OPS.has(current.opType ?? ''))
    throw new BackboneError(
      'BACKBONE_TENSOR_NOT_FOUND',
      `${fileName}: no fully connected classifier layer found before the output (its input is the pooled feature vector)`,
      { file: fileName },
    );
  const inputs = current.input ?? [];
  const initialiser = (name: string) => graph.initializer?.find((t) => t.name === name);
  // The layer's weights give the feature length: [D, classes] for MatMul, Gemm without transB; [classes, D] with it.
  const weights = initialiser(current.opType === 'QLinearMatMul' ? inputs[3] : inputs[1]);
  const transB = current.attribute?.find((a) => a.name === 'transB')?.i;
  const dims = Number(weights?.dims?.[Number(transB ?? 0) === 1 ? 1 : 0] ?? 0);
  if (!dims)
    throw new BackboneError('BACKBONE_TENSOR_NOT_FOUND', `${fileName}: the classifier layer's weights have no shape`, {
      file: fileName,
    });
  if (current.opType === 'QLinearMatMul')
    return {
      nodes: [node('DequantizeLinear', [inputs[0], inputs[1], inputs[2]], [POOLED_OUTPUT])],
      tensor: POOLED_OUTPUT,
      dims,
    };
  return { nodes: [node('Identity', [inputs[0]], [POOLED_OUTPUT])], tensor: POOLED_OUTPUT, dims };
}

/** The nodes the target depends on, in their original (topological) order. */
function pruneTo(nodes: NodeProto[], target: string): NodeProto[] {
  const producers = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => producers.set(o, i)));
  const needed = new Set<number>();
  const stack = [target];
  while (stack.length > 0) {
    const i = producers.get(stack.pop()!);
    if (i === undefined || needed.has(i)) continue;
    needed.add(i);
    for (const input of nodes[i].input ?? []) if (input) stack.push(input);
  }
  return nodes.filter((_, i) => needed.has(i));
}

function decode(backbone: Uint8Array, fileName: string): ModelProto {
  try {
    const model = onnx.ModelProto.decode(backbone);
    if (!model.graph?.node?.length) throw new Error('no graph');
    return model;
  } catch (cause) {
    throw new BackboneError(
      'BACKBONE_MANIFEST_INVALID',
      `${fileName} is not an ONNX model`,
      { file: fileName },
      { cause },
    );
  }
}

/** Replaces the graph's tail: keeps what `output` needs, adds `extra` nodes and initialisers, one output. */
function finish(
  model: ModelProto,
  added: NodeProto[],
  initialisers: ReturnType<typeof floatTensor>[],
  output: string,
  width: number,
): Uint8Array {
  const graph = model.graph!;
  const kept = pruneTo([...(graph.node ?? []), ...added], output);
  const used = new Set(kept.flatMap((n) => n.input ?? []));
  graph.node = kept as typeof graph.node;
  graph.initializer = [
    ...(graph.initializer ?? []).filter((t) => used.has(t.name ?? '')),
    ...initialisers,
  ] as typeof graph.initializer;
  const live = new Set([...used, ...kept.flatMap((n) => n.output ?? [])]);
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => live.has(v.name ?? ''));
  graph.output = [valueInfo(output, DataType.FLOAT, ['batch', width])] as typeof graph.output;
  return onnx.ModelProto.encode(model).finish();
}

/** The backbone cut at its pooled features: output `faultline_pooled` [batch, D]. */
export function derivePooledFeatureModel(backbone: Uint8Array, fileName: string): { bytes: Uint8Array; dims: number } {
  const model = decode(backbone, fileName);
  const pooled = pooledFeatures(model, fileName);
  return { bytes: finish(model, pooled.nodes, [], pooled.tensor, pooled.dims), dims: pooled.dims };
}

/** A linear head on the pooled features: logits = features @ weights + bias, softmax; the temperature folded in. */
export interface LinearHead {
  /** [D, classes], row-major. */
  weights: Float32Array;
  bias: Float32Array;
  classes: number;
}

/**
 * One ONNX graph: the backbone up to its pooled features, the head's Gemm and a softmax, output `probabilities`
 * [batch, classes]. What `classify train` exports and the service stores: it runs anywhere onnxruntime does.
 */
export function exportClassifierGraph(backbone: Uint8Array, fileName: string, head: LinearHead): Uint8Array {
  const model = decode(backbone, fileName);
  const pooled = pooledFeatures(model, fileName);
  if (head.weights.length !== pooled.dims * head.classes)
    throw new BackboneError(
      'BACKBONE_MANIFEST_INVALID',
      `the head expects ${head.weights.length / head.classes} features; ${fileName} gives ${pooled.dims}`,
    );
  const added = [
    ...pooled.nodes,
    node('Gemm', [pooled.tensor, 'faultline_head_w', 'faultline_head_b'], ['faultline_logits']),
    node('Softmax', ['faultline_logits'], [PROBABILITIES_OUTPUT], { axis: { int: 1 } }),
  ];
  return finish(
    model,
    added,
    [
      floatTensor('faultline_head_w', [pooled.dims, head.classes], head.weights),
      floatTensor('faultline_head_b', [head.classes], head.bias),
    ],
    PROBABILITIES_OUTPUT,
    head.classes,
  );
}

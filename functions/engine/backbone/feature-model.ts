import { BackboneError } from '../errors.ts';
import { DataType, floatTensor, node, valueInfo } from '../onnx/graph-builder.ts';
import { onnx, type NodeProto } from '../onnx/onnx-proto.ts';
import type { BackboneManifest, FeatureTensor } from './backbone-manifest.ts';

export const FEATURES_OUTPUT = 'faultline_features';

/** Side of the neighbourhood each patch's features are averaged over: PatchCore's 3 x 3 unless a model says other. */
export const DEFAULT_AGGREGATION = 3;
/** Neighbourhood sides a model may use: odd, so the window is centred on its patch; 1 = no averaging. */
export const AGGREGATIONS = [1, 3, 5, 7] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/**
 * Derives the feature-extraction model from a backbone by editing its ONNX graph:
 * each named tensor is dequantised when it is int8 (DequantizeLinear on the producer's output scale and zero point),
 * averaged over k x k neighbourhoods (`aggregation`, 3 by default; stride 1, pad (k - 1) / 2, padding counted, as
 * torch's AvgPool2d(k, 1, (k - 1) / 2); 1 = no averaging), resized
 * bilinearly (half-pixel, as torch's align_corners=False) to the finest layer's grid, concatenated on channels and
 * transposed to [batch, height, width, channels] so each patch's vector is contiguous. Nodes the features do not need
 * (the classifier head) are pruned. Doing this in the graph lets onnxruntime fuse and run it in native code.
 */
export function deriveFeatureModel(
  modelBytes: Uint8Array,
  manifest: BackboneManifest,
  layers: readonly FeatureTensor[],
  fileName: string,
  aggregation: number = DEFAULT_AGGREGATION,
): Uint8Array {
  if (!(AGGREGATIONS as readonly number[]).includes(aggregation))
    throw new BackboneError(
      'BACKBONE_MANIFEST_INVALID',
      `feature aggregation must be one of ${AGGREGATIONS.join(', ')} (neighbourhood side); got ${aggregation}`,
      { aggregation },
    );
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(modelBytes);
  } catch (cause) {
    throw new BackboneError(
      'BACKBONE_MANIFEST_INVALID',
      `${fileName} is not an ONNX model`,
      { file: fileName },
      { cause },
    );
  }
  const graph = model.graph;
  if (!graph || !graph.node || !graph.input)
    throw new BackboneError('BACKBONE_MANIFEST_INVALID', `${fileName} has no graph`, { file: fileName });
  const opset = Number(model.opsetImport.find((o) => !o.domain)?.version ?? 0);
  if (opset < 11) {
    throw new BackboneError(
      'BACKBONE_MANIFEST_INVALID',
      `${fileName} uses ONNX opset ${opset}; 11 or later is needed (re-export it with a newer opset)`,
      { file: fileName, opset },
    );
  }
  if (!graph.input.some((i) => i.name === manifest.input.name)) {
    throw new BackboneError(
      'BACKBONE_TENSOR_NOT_FOUND',
      `${fileName} has no input named ${manifest.input.name} (inputs: ${graph.input.map((i) => i.name).join(', ')})`,
      { file: fileName, tensor: manifest.input.name },
    );
  }

  const producers = new Map<string, NodeProto>();
  for (const n of graph.node) for (const o of n.output ?? []) producers.set(o, n);

  const finest = Math.min(...layers.map((l) => l.stride));
  const added: NodeProto[] = [];
  const initialisers = [floatTensor('faultline_empty_roi', [0], new Float32Array(0))];
  const pooledNames: string[] = [];

  for (const layer of layers) {
    const producer = producers.get(layer.tensor);
    if (!producer) {
      throw new BackboneError(
        'BACKBONE_TENSOR_NOT_FOUND',
        `${fileName} has no tensor named ${layer.tensor} (expected by backbone manifest ${manifest.id})`,
        { file: fileName, tensor: layer.tensor },
      );
    }
    const id = sanitize(layer.tensor);
    let source = layer.tensor;
    const quantParams = quantisationParams(producer);
    if (quantParams) {
      source = `faultline_${id}_float`;
      added.push(node('DequantizeLinear', [layer.tensor, quantParams.scale, quantParams.zeroPoint], [source]));
    } else if (producer.opType?.startsWith('QLinear') || producer.opType === 'QuantizeLinear') {
      throw new BackboneError(
        'BACKBONE_TENSOR_NOT_FOUND',
        `${fileName}: cannot find the quantisation parameters of ${layer.tensor} (made by ${producer.opType})`,
        { file: fileName, tensor: layer.tensor },
      );
    }
    const pooled = `faultline_${id}_pooled`;
    const pad = (aggregation - 1) / 2;
    added.push(
      aggregation === 1
        ? node('Identity', [source], [pooled])
        : node('AveragePool', [source], [pooled], {
            kernel_shape: { ints: [aggregation, aggregation] },
            strides: { ints: [1, 1] },
            pads: { ints: [pad, pad, pad, pad] },
            count_include_pad: { int: 1 },
          }),
    );
    if (layer.stride !== finest) {
      const factor = layer.stride / finest;
      const scalesName = `faultline_${id}_scales`;
      initialisers.push(floatTensor(scalesName, [4], new Float32Array([1, 1, factor, factor])));
      const resized = `faultline_${id}_resized`;
      added.push(
        node('Resize', [pooled, 'faultline_empty_roi', scalesName], [resized], {
          mode: { string: 'linear' },
          coordinate_transformation_mode: { string: 'half_pixel' },
        }),
      );
      pooledNames.push(resized);
    } else {
      pooledNames.push(pooled);
    }
  }
  const concatenated = 'faultline_concatenated';
  added.push(
    pooledNames.length > 1
      ? node('Concat', pooledNames, [concatenated], { axis: { int: 1 } })
      : node('Identity', pooledNames, [concatenated]),
  );
  added.push(node('Transpose', [concatenated], [FEATURES_OUTPUT], { perm: { ints: [0, 2, 3, 1] } }));

  const grid = manifest.input.size / finest;
  const channels = layers.reduce((s, l) => s + l.channels, 0);
  const allNodes = [...graph.node, ...added];
  const kept = pruneTo(allNodes, FEATURES_OUTPUT);
  const used = new Set(kept.flatMap((n) => n.input ?? []));
  graph.node = kept as typeof graph.node;
  graph.initializer = [
    ...(graph.initializer ?? []).filter((t) => used.has(t.name ?? '')),
    ...initialisers,
  ] as typeof graph.initializer;
  const liveTensors = new Set([...used, ...kept.flatMap((n) => n.output ?? [])]);
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => liveTensors.has(v.name ?? ''));
  graph.output = [valueInfo(FEATURES_OUTPUT, DataType.FLOAT, ['batch', grid, grid, channels])] as typeof graph.output;
  return onnx.ModelProto.encode(model).finish();
}

/** Output scale and zero point of a quantised operator, where the ONNX operator set puts them. */
function quantisationParams(producer: NodeProto): { scale: string; zeroPoint: string } | undefined {
  const inputs = producer.input ?? [];
  switch (producer.opType) {
    case 'QuantizeLinear':
      return inputs.length >= 3 ? { scale: inputs[1], zeroPoint: inputs[2] } : undefined;
    case 'QLinearConv':
    case 'QLinearAdd':
    case 'QLinearMul':
    case 'QLinearMatMul':
      return inputs.length >= 8 ? { scale: inputs[6], zeroPoint: inputs[7] } : undefined;
    default:
      return undefined;
  }
}

/** The nodes the target depends on, in their original (topological) order. */
function pruneTo(nodes: NodeProto[], target: string): NodeProto[] {
  const producers = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => producers.set(o, i)));
  const needed = new Set<number>();
  const stack = [target];
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    const i = producers.get(tensor);
    if (i === undefined || needed.has(i)) continue;
    needed.add(i);
    for (const input of nodes[i].input ?? []) if (input) stack.push(input);
  }
  return nodes.filter((_, i) => needed.has(i));
}

const sanitize = (name: string): string => name.replace(/[^A-Za-z0-9_]/g, '_');

import { UploadedModelError } from '../errors.ts';
import { onnx, type ValueInfoProto } from './onnx-proto.ts';

/** A graph input or output: its name, element type and dims (a number, or the symbolic name of a free dim). */
export interface TensorDescription {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

export interface OnnxModelSummary {
  irVersion: number;
  /** The default (ai.onnx) domain's operator set. */
  opset: number;
  producer: string;
  inputs: TensorDescription[];
  outputs: TensorDescription[];
}

/** The operator sets onnxruntime-node runs (7 is the oldest it supports; newer than it knows fails at load). */
export const MIN_OPSET = 7;

/**
 * Why a TFLite file is refused (asked in issue 16): the registry's Node TFLite packages are experimental
 * (tfjs-tflite-node 0.0.2, @tensorflow/tfjs-tflite 0.0.1-alpha, browser WASM) or undocumented (tflite-node, no
 * repository); none is a maintained runtime to serve with, so a TFLite model must be converted to ONNX (tf2onnx).
 */
export const TFLITE_REFUSAL =
  'TFLite models are not served: no maintained TFLite runtime for Node exists in the npm registry (tfjs-tflite-node is at 0.0.2, @tensorflow/tfjs-tflite is a browser alpha); convert the model to ONNX (python -m tf2onnx.convert --tflite model.tflite --output model.onnx) and upload that';

/** Whether the bytes are a TFLite flatbuffer (its file identifier "TFL3" at offset 4). */
export const isTflite = (bytes: Uint8Array): boolean =>
  bytes.byteLength >= 8 && Buffer.from(bytes.subarray(4, 8)).toString('latin1') === 'TFL3';

/**
 * Reads an uploaded model's header without running it: refuses TFLite with the reason, anything that does not
 * decode as an ONNX ModelProto with a graph, and operator sets too old to run; lists the graph's inputs (without
 * initialisers) and outputs with their shapes.
 */
export function inspectOnnxModel(bytes: Uint8Array): OnnxModelSummary {
  if (isTflite(bytes)) throw new UploadedModelError('MODEL_FORMAT_UNSUPPORTED', TFLITE_REFUSAL, { format: 'tflite' });
  const notOnnx = (why: string, cause?: unknown) =>
    new UploadedModelError(
      'MODEL_NOT_ONNX',
      `the file is not an ONNX model (${why}); export it with torch.onnx.export, tf2onnx or skl2onnx`,
      {},
      cause === undefined ? undefined : { cause },
    );
  if (bytes.byteLength === 0) throw notOnnx('it is empty');
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw notOnnx('it does not decode as an ONNX protobuf', cause);
  }
  const graph = model.graph;
  const irVersion = Number(model.irVersion ?? 0);
  if (!graph || !graph.node?.length || irVersion <= 0 || !graph.output?.length)
    throw notOnnx('no IR version, graph, nodes or outputs');
  const opsetEntry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = Number(opsetEntry?.version ?? 0);
  if (opset < MIN_OPSET)
    throw new UploadedModelError(
      'MODEL_INVALID',
      `the model uses ONNX opset ${opset}; onnxruntime runs opset ${MIN_OPSET} or later (re-export it with a newer opset)`,
      { opset },
    );
  const initialisers = new Set((graph.initializer ?? []).map((t) => t.name));
  const describe = (v: ValueInfoProto): TensorDescription => ({
    name: v.name ?? '',
    elemType: v.type?.tensorType?.elemType ?? 0,
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
      d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0
        ? Number(d.dimValue)
        : d.dimParam || '?',
    ),
  });
  return {
    irVersion,
    opset,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    inputs: (graph.input ?? []).filter((i) => !initialisers.has(i.name ?? '')).map(describe),
    outputs: graph.output.map(describe),
  };
}

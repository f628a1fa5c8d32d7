import { onnx, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx-proto.ts';

/** Small constructors for ONNX protobuf messages, so graph code reads as the graph it builds. */

const AttributeType = onnx.AttributeProto.AttributeType;
export const DataType = onnx.TensorProto.DataType;

type AttributeValue = number | string | readonly number[];
export interface NodeAttributes {
  [name: string]: { float: number } | { int: number } | { ints: readonly number[] } | { string: string };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: NodeAttributes = {},
  name?: string,
): NodeProto {
  return {
    opType,
    input: inputs,
    output: outputs,
    name: name ?? `faultline_${opType}_${outputs[0]}`,
    attribute: Object.entries(attributes).map(([attrName, v]) => {
      if ('float' in v) return { name: attrName, type: AttributeType.FLOAT, f: v.float };
      if ('int' in v) return { name: attrName, type: AttributeType.INT, i: v.int };
      if ('ints' in v) return { name: attrName, type: AttributeType.INTS, ints: [...v.ints] };
      return { name: attrName, type: AttributeType.STRING, s: new TextEncoder().encode(v.string) };
    }),
  };
}
export type { AttributeValue };

export function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  // raw_data is little-endian by the ONNX spec; a Float32Array view of it is too on every platform Node ships for.
  return {
    name,
    dims: [...dims],
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

export function int64Tensor(name: string, values: readonly number[]): TensorProto {
  return { name, dims: [values.length], dataType: DataType.INT64, int64Data: [...values] };
}

/** A value description; dims are sizes or symbolic names (e.g. 'batch'). */
export function valueInfo(name: string, elemType: number, dims: ReadonlyArray<number | string>): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A graph of our own as a model file: IR 8, opset 13 (what every graph built in code here uses). */
export function encodeGraph(graph: NonNullable<Parameters<typeof onnx.ModelProto.encode>[0]['graph']>): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: 'faultline',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  }).finish();
}

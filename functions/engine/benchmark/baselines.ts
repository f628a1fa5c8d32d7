import * as ort from 'onnxruntime-node';
import { createSession, type SessionOptions } from '../onnx/create-session.ts';
import { DataType, encodeGraph, floatTensor, node, valueInfo } from '../onnx/graph-builder.ts';

/**
 * Reference points measured in the same run as the engine, so that figures are ratios that hold on other machines:
 * the untouched backbone (what the feature stage costs at best) and the search as one bare matrix product (what
 * the nearest-neighbour stage costs at best on this machine).
 */
export async function timeRuns(runs: number, run: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return times;
}

/** The original backbone file (classifier and all) on one image, as onnxruntime runs it: the floor for the backbone stage. */
export async function backboneBaseline(
  backbonePath: string,
  inputName: string,
  size: number,
  runs: number,
  options?: SessionOptions,
): Promise<number[]> {
  const session = await createSession(backbonePath, options);
  try {
    const input = new ort.Tensor('float32', new Float32Array(3 * size * size).fill(0.1), [1, 3, size, size]);
    await session.run({ [inputName]: input }); // warm-up
    return await timeRuns(runs, () => session.run({ [inputName]: input }));
  } finally {
    await session.release();
  }
}

/** One MatMul of an image's patches [patches, dims] by the bank transposed [dims, rows]: the floor for the search. */
export async function matmulBaseline(
  bank: Float32Array,
  rows: number,
  dims: number,
  patches: number,
  runs: number,
  options?: SessionOptions,
): Promise<number[]> {
  const transposed = new Float32Array(dims * rows);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dims; d++) transposed[d * rows + r] = bank[r * dims + d];
  const graph = {
    name: 'baseline_matmul',
    input: [valueInfo('queries', DataType.FLOAT, ['n', dims])],
    output: [valueInfo('products', DataType.FLOAT, ['n', rows])],
    initializer: [floatTensor('bank_t', [dims, rows], transposed)],
    node: [node('MatMul', ['queries', 'bank_t'], ['products'])],
  };
  const model = encodeGraph(graph);
  const session = await createSession(model, options);
  try {
    const data = new Float32Array(patches * dims);
    for (let i = 0; i < data.length; i++) data[i] = bank[i % bank.length];
    const queries = new ort.Tensor('float32', data, [patches, dims]);
    await session.run({ queries });
    return await timeRuns(runs, () => session.run({ queries }));
  } finally {
    await session.release();
  }
}

import * as ort from 'onnxruntime-node';
import { DataType, encodeGraph, floatTensor, int64Tensor, node, valueInfo } from '../onnx/graph-builder.ts';
import { createSession, type SessionOptions } from '../onnx/create-session.ts';

export interface NearestNeighbours {
  /** Euclidean distance of each query to its nearest bank row. */
  distances: Float32Array;
  /** Index of that bank row. */
  indices: Int32Array;
  /** The patch with the largest distance, when the search reports it (an approximate search may tie it). */
  maxPatch?: number;
}

/**
 * Builds the exact nearest-neighbour search as an ONNX graph:
 * |q - b|^2 = |q|^2 + (|b|^2 - 2 q.b); the bracket is one Gemm, its row minimum one TopK(k=1) (or ReduceMin when the
 * index is not wanted), and |q|^2 is added after the minimum since it is constant along the row.
 * With the bank given, it is a constant of the graph (onnxruntime pre-packs it for the Gemm); without, the graph
 * takes it as a second input `bank`, for callers whose bank changes between runs (the coreset).
 */
function buildSearchModel(dims: number, bank?: { data: Float32Array; rows: number }): Uint8Array {
  const initializer = bank ? [int64Tensor('k', [1])] : [];
  const input = [valueInfo('queries', DataType.FLOAT, ['n', dims])];
  const nodes = [];
  if (bank) {
    initializer.push(
      floatTensor('bank', [bank.rows, dims], bank.data),
      floatTensor('bank_sq', [bank.rows], squaredNorms(bank.data, bank.rows, dims)),
    );
  } else {
    input.push(valueInfo('bank', DataType.FLOAT, ['m', dims]));
    nodes.push(node('ReduceSumSquare', ['bank'], ['bank_sq'], { axes: { ints: [1] }, keepdims: { int: 0 } }));
  }
  nodes.push(
    node('Gemm', ['queries', 'bank', 'bank_sq'], ['partial'], {
      alpha: { float: -2 },
      beta: { float: 1 },
      transB: { int: 1 },
    }),
  );
  if (bank) nodes.push(node('TopK', ['partial', 'k'], ['best', 'indices'], { axis: { int: 1 }, largest: { int: 0 } }));
  else nodes.push(node('ReduceMin', ['partial'], ['best'], { axes: { ints: [1] }, keepdims: { int: 1 } }));
  nodes.push(
    node('ReduceSumSquare', ['queries'], ['queries_sq'], { axes: { ints: [1] }, keepdims: { int: 1 } }),
    node('Add', ['best', 'queries_sq'], ['squared']),
    node('Relu', ['squared'], ['clamped']), // rounding can make a zero distance slightly negative
    node('Sqrt', ['clamped'], ['distances']),
  );
  const output = [valueInfo('distances', DataType.FLOAT, ['n', 1])];
  if (bank) output.push(valueInfo('indices', DataType.INT64, ['n', 1]));
  const graph = { name: 'faultline_nearest_neighbour', input, output, initializer, node: nodes };
  return encodeGraph(graph);
}

export function squaredNorms(data: Float32Array, rows: number, dims: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = r * dims, end = d + dims; d < end; d++) s += data[d] * data[d];
    out[r] = s;
  }
  return out;
}

/** A graph giving the k nearest of `bank`'s rows to each query (indices, nearest first, ties to the lower row). */
function buildNearestRowsModel(dims: number, bank: Float32Array, rows: number, k: number): Uint8Array {
  const graph = {
    name: 'faultline_nearest_rows',
    input: [valueInfo('queries', DataType.FLOAT, ['n', dims])],
    output: [valueInfo('indices', DataType.INT64, ['n', k])],
    initializer: [
      floatTensor('bank', [rows, dims], bank),
      floatTensor('bank_sq', [rows], squaredNorms(bank, rows, dims)),
      int64Tensor('k', [k]),
    ],
    node: [
      node('Gemm', ['queries', 'bank', 'bank_sq'], ['partial'], {
        alpha: { float: -2 },
        beta: { float: 1 },
        transB: { int: 1 },
      }),
      node('TopK', ['partial', 'k'], ['best', 'indices'], {
        axis: { int: 1 },
        largest: { int: 0 },
        sorted: { int: 1 },
      }),
    ],
  };
  return encodeGraph(graph);
}

/**
 * The k nearest bank rows of each query, exact, on onnxruntime: the cell table of CellProbeSearch, and the support
 * rows of the image score's re-weighting (a JavaScript scan of a 15,680-row bank took 3 ms CPU per image).
 */
export class NearestBankRows {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly dims: number,
    readonly rows: number,
    readonly k: number,
  ) {}

  static async create(
    bank: Float32Array,
    rows: number,
    dims: number,
    k: number,
    options?: SessionOptions,
  ): Promise<NearestBankRows> {
    const n = Math.min(k, rows);
    return new NearestBankRows(await createSession(buildNearestRowsModel(dims, bank, rows, n), options), dims, rows, n);
  }

  /** [queries, k] row indices, nearest first; k is at most the bank's rows. */
  async of(queries: Float32Array): Promise<Int32Array> {
    const { dims, k } = this;
    const n = queries.length / dims;
    const out = new Int32Array(n * k);
    // In chunks that keep the distance matrix small (at most 4 million entries).
    const chunk = Math.max(1, Math.floor(4_000_000 / this.rows));
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      const result = await this.session.run({
        queries: new ort.Tensor('float32', queries.subarray(start * dims, end * dims), [end - start, dims]),
      });
      const found = result.indices.data as BigInt64Array;
      for (let i = 0; i < found.length; i++) out[start * k + i] = Number(found[i]);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Exact nearest neighbour of each query among the memory bank rows, on onnxruntime. */
export class NearestNeighbourSearch {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly dims: number,
  ) {}

  static async create(
    bank: Float32Array,
    rows: number,
    dims: number,
    options?: SessionOptions,
  ): Promise<NearestNeighbourSearch> {
    return new NearestNeighbourSearch(await createSession(buildSearchModel(dims, { data: bank, rows }), options), dims);
  }

  async search(queries: Float32Array): Promise<NearestNeighbours> {
    const n = queries.length / this.dims;
    const out = await this.session.run({ queries: new ort.Tensor('float32', queries, [n, this.dims]) });
    const distances = out.distances.data as Float32Array;
    const raw = out.indices.data as BigInt64Array;
    const indices = new Int32Array(n);
    for (let i = 0; i < n; i++) indices[i] = Number(raw[i]);
    return { distances, indices };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Distance from each query to the nearest of a set of rows that changes between calls (no indices). */
export class MinimumDistance {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly dims: number,
  ) {}

  static async create(dims: number, options?: SessionOptions): Promise<MinimumDistance> {
    return new MinimumDistance(await createSession(buildSearchModel(dims), options), dims);
  }

  async run(queries: Float32Array, bank: Float32Array): Promise<Float32Array> {
    const out = await this.session.run({
      queries: new ort.Tensor('float32', queries, [queries.length / this.dims, this.dims]),
      bank: new ort.Tensor('float32', bank, [bank.length / this.dims, this.dims]),
    });
    return out.distances.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

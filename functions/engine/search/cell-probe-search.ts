import * as ort from 'onnxruntime-node';
import { DataType, encodeGraph, floatTensor, int64Tensor, node, valueInfo } from '../onnx/graph-builder.ts';
import type { TensorProto } from '../onnx/onnx-proto.ts';
import { createSession, type SessionOptions } from '../onnx/create-session.ts';
import { NearestBankRows, type NearestNeighbours, squaredNorms } from './nearest-neighbour-search.ts';

export interface CellProbeOptions {
  /** Share of the bank's rows that are cell centres (its first rows: the bank is in greedy-coreset order). */
  coarseShare: number;
  /** Nearest cells probed per patch. */
  probes: number;
  /** Bank rows per cell: the centre's nearest rows (the centre first). */
  cellWidth: number;
  /** Share of an image's patches, those farthest after the cells, searched against the whole bank... */
  rerankShare: number;
  /** ...and at least this many. */
  minRerank: number;
}

/** Chosen with `npm run bench:search` on the three shared sets (README, "Search"). */
export const DEFAULT_CELL_PROBE: CellProbeOptions = {
  coarseShare: 1 / 16,
  probes: 2,
  cellWidth: 8,
  rerankShare: 0.04,
  minRerank: 8,
};

/**
 * Each cell centre's nearest bank rows (the centre first), `width` per centre, row-major. Built from the bank when a
 * model is saved (artifact/model-artifact.ts keeps it beside the bank) so that a load need not build it again.
 */
export interface CellTable {
  centres: number;
  width: number;
  rows: Int32Array;
}

/** How many centres and rows per cell a bank of `rows` rows has under these options: the one rule for both. */
export function cellTableShape(
  rows: number,
  options: Partial<CellProbeOptions> = {},
): { centres: number; width: number } {
  const o = { ...DEFAULT_CELL_PROBE, ...options };
  return { centres: Math.max(1, Math.min(rows, Math.round(rows * o.coarseShare))), width: Math.min(o.cellWidth, rows) };
}

/** Builds the cell table: the centres (the bank's first rows) against the whole bank, their `width` nearest. */
export async function buildCellTable(
  bank: Float32Array,
  rows: number,
  dims: number,
  options: Partial<CellProbeOptions> = {},
  session?: SessionOptions,
): Promise<CellTable> {
  const { centres, width } = cellTableShape(rows, options);
  const nearest = await NearestBankRows.create(bank, rows, dims, width, session);
  try {
    return { centres, width, rows: await nearest.of(bank.subarray(0, centres * dims)) };
  } finally {
    await nearest.release();
  }
}

/**
 * Is a stored table the one these options need for this bank (any other is rebuilt, never used)? Its shape must be
 * the options' for the bank's size, its rows in the bank, and every centre among its own cell's rows (a table of
 * another bank of the same size fails this).
 */
export function fitsCellTable(
  table: CellTable,
  bank: Float32Array,
  rows: number,
  dims: number,
  options: Partial<CellProbeOptions> = {},
): boolean {
  const { centres, width } = cellTableShape(rows, options);
  if (table.centres !== centres || table.width !== width || table.rows.length !== centres * width) return false;
  for (const row of table.rows) if (!(Number.isInteger(row) && row >= 0 && row < rows)) return false;
  const sameRow = (a: number, b: number) => {
    for (let d = 0; d < dims; d++) if (bank[a * dims + d] !== bank[b * dims + d]) return false;
    return true;
  };
  for (let c = 0; c < centres; c++) {
    const cell = table.rows.subarray(c * width, (c + 1) * width);
    if (!cell.includes(c) && !cell.some((row) => sameRow(row, c))) return false;
  }
  return true;
}

/** What one search did, for the benchmark and the tests. */
export interface CellProbeTrace {
  /** Patches searched against the whole bank (their distance and row are the exact search's). */
  reranked: number[];
  /**
   * Whether the image's largest distance is certainly the exact one: the largest re-ranked distance reaches the
   * cell distance of every patch not re-ranked (cell distances are upper bounds of the true ones).
   */
  certified: boolean;
}

function int32Matrix(name: string, rows: number, cols: number, data: Int32Array): TensorProto {
  return {
    name,
    dims: [rows, cols],
    dataType: DataType.INT32,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * The whole search as one graph, so that every step runs on onnxruntime's threaded SIMD kernels and none in a
 * per-patch JavaScript loop:
 * 1. cells: queries x cell centres (Gemm), the `probes` nearest centres (TopK), their rows (Gather from the cell
 *    table, then from the bank), squared distances to those rows as |b|^2 - 2 q.b + |q|^2 (a batched MatMul of each
 *    patch with its own rows: 11 % less CPU than Sub + ReduceSumSquare, which write the differences out), the nearest
 *    (TopK k=1).
 *    An exact distance to some bank row: an upper bound of the patch's nearest distance, often equal to it.
 * 2. re-rank: the `rerank` patches with the largest cell distances against the whole bank (Gemm + TopK k=1), the
 *    exact search's formula; their distances and rows replace the cell ones.
 * 3. the other patches' distances are capped at the largest re-ranked one: when the image's farthest patch is among
 *    the re-ranked ones, that cap is the exact maximum, so every distance stays an upper bound of the true one and
 *    the image's maximum (and its patch, reported apart so ties cannot move it) is the exact search's.
 */
function buildCellProbeModel(
  dims: number,
  bank: Float32Array,
  rows: number,
  centres: number,
  cells: Int32Array,
  width: number,
  probes: number,
): Uint8Array {
  const graph = {
    name: 'faultline_cell_probe_search',
    input: [valueInfo('queries', DataType.FLOAT, ['n', dims]), valueInfo('rerank', DataType.INT64, [1])],
    output: [
      valueInfo('distances', DataType.FLOAT, ['n']),
      valueInfo('indices', DataType.INT32, ['n']),
      valueInfo('reranked', DataType.INT64, ['r']),
      valueInfo('max_patch', DataType.INT64, [1]),
      valueInfo('rerank_floor', DataType.FLOAT, []),
    ],
    initializer: [
      floatTensor('bank', [rows, dims], bank),
      floatTensor('bank_sq', [rows], squaredNorms(bank, rows, dims)),
      floatTensor('centres', [centres, dims], bank.subarray(0, centres * dims)),
      floatTensor('centres_sq', [centres], squaredNorms(bank, centres, dims)),
      int32Matrix('cells', centres, width, cells),
      int64Tensor('probes', [probes]),
      int64Tensor('one', [1]),
      int64Tensor('flat_candidates', [0, -1]),
      int64Tensor('flat', [-1]),
      int64Tensor('axis2', [2]),
      floatTensor('minus_two', [], Float32Array.of(-2)),
    ],
    node: [
      // 1. cells
      node('Gemm', ['queries', 'centres', 'centres_sq'], ['centre_partial'], {
        alpha: { float: -2 },
        beta: { float: 1 },
        transB: { int: 1 },
      }),
      node('TopK', ['centre_partial', 'probes'], ['centre_best', 'centre_index'], {
        axis: { int: 1 },
        largest: { int: 0 },
      }),
      node('Gather', ['cells', 'centre_index'], ['candidates_3d'], { axis: { int: 0 } }),
      node('Reshape', ['candidates_3d', 'flat_candidates'], ['candidates']),
      node('Gather', ['bank', 'candidates'], ['candidate_rows'], { axis: { int: 0 } }),
      node('Unsqueeze', ['queries', 'axis2'], ['queries_col']),
      node('MatMul', ['candidate_rows', 'queries_col'], ['dots_3d']),
      node('Reshape', ['dots_3d', 'flat_candidates'], ['dots']),
      node('Gather', ['bank_sq', 'candidates'], ['candidate_norms'], { axis: { int: 0 } }),
      node('Mul', ['dots', 'minus_two'], ['dots_2']),
      node('Add', ['dots_2', 'candidate_norms'], ['candidate_partial']),
      node('TopK', ['candidate_partial', 'one'], ['cell_partial', 'cell_position'], {
        axis: { int: 1 },
        largest: { int: 0 },
      }),
      node('ReduceSumSquare', ['queries'], ['queries_sq'], { axes: { ints: [1] }, keepdims: { int: 1 } }),
      node('Add', ['cell_partial', 'queries_sq'], ['cell_sq_raw']),
      node('Relu', ['cell_sq_raw'], ['cell_sq']),
      node('GatherElements', ['candidates', 'cell_position'], ['cell_index_2d'], { axis: { int: 1 } }),
      node('Reshape', ['cell_index_2d', 'flat'], ['cell_index']),
      node('Reshape', ['cell_sq', 'flat'], ['cell_sq_flat']),
      node('Sqrt', ['cell_sq_flat'], ['cell_distances']),
      // 2. re-rank
      node('TopK', ['cell_distances', 'rerank'], ['rerank_bounds', 'reranked'], {
        axis: { int: 0 },
        largest: { int: 1 },
      }),
      node('ReduceMin', ['rerank_bounds'], ['rerank_floor'], { keepdims: { int: 0 } }),
      node('Gather', ['queries', 'reranked'], ['rerank_queries'], { axis: { int: 0 } }),
      node('Gemm', ['rerank_queries', 'bank', 'bank_sq'], ['rerank_partial'], {
        alpha: { float: -2 },
        beta: { float: 1 },
        transB: { int: 1 },
      }),
      node('TopK', ['rerank_partial', 'one'], ['rerank_best', 'rerank_index_2d'], {
        axis: { int: 1 },
        largest: { int: 0 },
      }),
      node('ReduceSumSquare', ['rerank_queries'], ['rerank_queries_sq'], { axes: { ints: [1] }, keepdims: { int: 1 } }),
      node('Add', ['rerank_best', 'rerank_queries_sq'], ['rerank_squared']),
      node('Relu', ['rerank_squared'], ['rerank_clamped']), // rounding can make a zero distance slightly negative
      node('Sqrt', ['rerank_clamped'], ['rerank_distances_2d']),
      node('Reshape', ['rerank_distances_2d', 'flat'], ['rerank_distances']),
      node('Reshape', ['rerank_index_2d', 'flat'], ['rerank_index_64']),
      node('Cast', ['rerank_index_64'], ['rerank_index'], { to: { int: DataType.INT32 } }),
      // 3. cap and merge
      node('ReduceMax', ['rerank_distances'], ['rerank_max'], { keepdims: { int: 0 } }),
      node('ArgMax', ['rerank_distances'], ['max_position'], { axis: { int: 0 }, keepdims: { int: 1 } }),
      node('Gather', ['reranked', 'max_position'], ['max_patch'], { axis: { int: 0 } }),
      node('Min', ['cell_distances', 'rerank_max'], ['capped']),
      node('ScatterElements', ['capped', 'reranked', 'rerank_distances'], ['distances'], { axis: { int: 0 } }),
      node('ScatterElements', ['cell_index', 'reranked', 'rerank_index'], ['indices'], { axis: { int: 0 } }),
    ],
  };
  return encodeGraph(graph);
}

/**
 * Nearest-neighbour search by probing cells, then re-ranking the farthest patches exactly: the image score is the
 * exact search's whenever the image's farthest patch is among the re-ranked ones (90-100 % of the images in the
 * shared sets, image AUROC within 0.002 of exact: README "Search"), and the other patches then keep an upper bound
 * (an exact distance to a near bank row). Cells: the bank's first rows are centres (a greedy coreset of the bank,
 * since the bank is stored in selection order), each with its `cellWidth` nearest bank rows, so the table has a
 * fixed width and the whole search is one onnxruntime graph.
 */
export class CellProbeSearch {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly dims: number,
    readonly centres: number,
    readonly options: CellProbeOptions,
  ) {}

  static async create(
    bank: Float32Array,
    rows: number,
    dims: number,
    options: Partial<CellProbeOptions> = {},
    session?: SessionOptions,
    /** The table stored with the model: used when it fits the bank and the options, else built as for older models. */
    stored?: CellTable,
  ): Promise<CellProbeSearch> {
    const o = { ...DEFAULT_CELL_PROBE, ...options };
    if (!(o.coarseShare > 0 && o.coarseShare <= 1)) throw new RangeError('coarseShare must be in (0, 1]');
    if (!(o.rerankShare >= 0 && o.rerankShare <= 1)) throw new RangeError('rerankShare must be in [0, 1]');
    for (const key of ['probes', 'cellWidth', 'minRerank'] as const)
      if (!Number.isInteger(o[key]) || o[key] < 1) throw new RangeError(`${key} must be a positive integer`);
    const table =
      stored && fitsCellTable(stored, bank, rows, dims, o)
        ? stored
        : await buildCellTable(bank, rows, dims, o, session);
    const { centres, width } = table;
    const probes = Math.min(o.probes, centres);
    const model = buildCellProbeModel(dims, bank, rows, centres, table.rows, width, probes);
    return new CellProbeSearch(await createSession(model, session), dims, centres, o);
  }

  /** How many of n patches are re-ranked. */
  rerankCount(n: number): number {
    return Math.min(n, Math.max(this.options.minRerank, Math.ceil(n * this.options.rerankShare)));
  }

  async search(queries: Float32Array, trace?: CellProbeTrace): Promise<NearestNeighbours> {
    const n = queries.length / this.dims;
    const out = await this.session.run({
      queries: new ort.Tensor('float32', queries, [n, this.dims]),
      rerank: new ort.Tensor('int64', BigInt64Array.of(BigInt(this.rerankCount(n))), [1]),
    });
    const distances = out.distances.data as Float32Array;
    const maxPatch = Number((out.max_patch.data as BigInt64Array)[0]);
    if (trace) {
      trace.reranked = Array.from(out.reranked.data as BigInt64Array, Number);
      trace.certified =
        n === trace.reranked.length || distances[maxPatch] >= (out.rerank_floor.data as Float32Array)[0];
    }
    return { distances, indices: out.indices.data as Int32Array, maxPatch };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

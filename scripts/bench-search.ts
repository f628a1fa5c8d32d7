/**
 * The patch search, exact against cell-probe, on the shared sets in one run: search ms per image (wall and CPU) and
 * the speedups, recall@1 (share of patches whose nearest row is the exact one), the mean ratio of cell-probe to exact
 * patch distances (what the anomaly map sees), the share of images whose farthest patch was re-ranked and that the
 * search certified, the image scores' largest difference, and image AUROC of both. The bank is built as training
 * builds it (features of train/good, greedy coreset at the default ratio); the exact search is the oracle. Timings
 * alternate the methods image by image, so that a busy machine slows both alike.
 *
 *   npm run bench:search -- [--sets cookie,tire,magnetic_tile] [--test-images N] [--coarse 0.0625] [--probes 2]
 *     [--width 8] [--rerank 0.04] [--min-rerank 8]
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BACKBONE_ID } from '../functions/engine/backbone/backbone-manifest.ts';
import { prepareBackbone } from '../functions/engine/backbone/obtain-backbone.ts';
import { readMvtecCategory } from '../functions/engine/dataset/mvtec-category.ts';
import { FeatureExtractor } from '../functions/engine/features/feature-extractor.ts';
import { InputPreparer } from '../functions/engine/features/input-preparer.ts';
import { auroc } from '../functions/engine/math/auroc.ts';
import { greedyCoreset } from '../functions/engine/memory-bank/greedy-coreset.ts';
import { sparseRandomProjection } from '../functions/engine/memory-bank/random-projection.ts';
import { sharedDir } from '../functions/engine/paths.ts';
import { reweightedImageScore } from '../functions/engine/scoring/image-score.ts';
import {
  CellProbeSearch,
  type CellProbeTrace,
  DEFAULT_CELL_PROBE,
} from '../functions/engine/search/cell-probe-search.ts';
import { NearestNeighbourSearch, type NearestNeighbours } from '../functions/engine/search/nearest-neighbour-search.ts';
import { TRAINING_DEFAULTS } from '../functions/engine/training/train.ts';
import { extractFeatureSet } from '../functions/engine/training/feature-pass.ts';

const { values } = parseArgs({
  options: {
    sets: { type: 'string', default: 'cookie,tire,magnetic_tile' },
    'test-images': { type: 'string' },
    coarse: { type: 'string', default: String(DEFAULT_CELL_PROBE.coarseShare) },
    probes: { type: 'string', default: String(DEFAULT_CELL_PROBE.probes) },
    width: { type: 'string', default: String(DEFAULT_CELL_PROBE.cellWidth) },
    rerank: { type: 'string', default: String(DEFAULT_CELL_PROBE.rerankShare) },
    'min-rerank': { type: 'string', default: String(DEFAULT_CELL_PROBE.minRerank) },
  },
});
const cellProbe = {
  coarseShare: Number(values.coarse),
  probes: Number(values.probes),
  cellWidth: Number(values.width),
  rerankShare: Number(values.rerank),
  minRerank: Number(values['min-rerank']),
};
const round = (v: number, d = 4) => Number(v.toFixed(d));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const backbone = await prepareBackbone({ backbone: DEFAULT_BACKBONE_ID });
const preprocessing = {
  size: backbone.manifest.input.size,
  resize: TRAINING_DEFAULTS.resize,
  resizeTo: TRAINING_DEFAULTS.resizeTo,
  mean: backbone.manifest.input.mean,
  std: backbone.manifest.input.std,
};
const extractor = await FeatureExtractor.create(backbone);
const preparer = new InputPreparer(preprocessing, 8);
const perImage = extractor.patchesPerImage;
const dims = extractor.channels;
const rows = [];
for (const set of values.sets.split(',')) {
  const category = readMvtecCategory(join(sharedDir(), 'datasets', set));
  const train = await extractFeatureSet(category.train, extractor, preparer);
  const all = train.names.length * perImage;
  const size = Math.max(1, Math.round(all * TRAINING_DEFAULTS.coresetRatio));
  const projected = sparseRandomProjection(train.features, all, dims, TRAINING_DEFAULTS.projectionDims, 0);
  const selected = await greedyCoreset(projected.data, all, projected.dims, { size, seed: 0 });
  const bank = new Float32Array(size * dims);
  selected.forEach((row, i) => bank.set(train.features.subarray(row * dims, (row + 1) * dims), i * dims));
  const limit = values['test-images'] ? Number(values['test-images']) : category.test.length;
  const tests = category.test.filter((_, i) => i % Math.ceil(category.test.length / limit) === 0);
  const test = await extractFeatureSet(
    tests.map((t) => t.image),
    extractor,
    preparer,
  );
  const labels = test.names.map((n) => tests.find((t) => t.image.name === n)!.anomalous);
  const neighbours = TRAINING_DEFAULTS.neighbours;
  // The searches themselves, timed alone: the image score's re-weighting (the same for both) is outside the timings.
  const exact = await NearestNeighbourSearch.create(bank, size, dims);
  const building = performance.now();
  const fast = await CellProbeSearch.create(bank, size, dims, cellProbe);
  const buildMs = performance.now() - building;
  const one = (i: number) => test.features.subarray(i * perImage * dims, (i + 1) * perImage * dims);
  const imageScore = (r: NearestNeighbours, i: number) =>
    reweightedImageScore(r.distances, r.indices, one(i), bank, size, dims, neighbours, { maxPatch: r.maxPatch });
  for (let i = 0; i < Math.min(3, test.names.length); i++) {
    await exact.search(one(i));
    await fast.search(one(i));
  }
  const ms = { exact: [] as number[], fast: [] as number[] };
  // CPU time (all threads) as well as wall time: on a shared machine the wall time of a multi-threaded run mostly
  // measures waiting for a core, the CPU time the work done.
  const cpu = { exact: 0, fast: 0 };
  const timed = async <T>(method: 'exact' | 'fast', run: () => Promise<T>): Promise<T> => {
    const c = process.cpuUsage();
    const t = performance.now();
    const result = await run();
    ms[method].push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpu[method] += (u.user + u.system) / 1000;
    return result;
  };
  const scores = { exact: [] as number[], fast: [] as number[] };
  let same = 0;
  let reranked = 0;
  let maxReranked = 0;
  let certified = 0;
  let ratio = 0;
  let maxScoreDiff = 0;
  for (let i = 0; i < test.names.length; i++) {
    const e = await timed('exact', () => exact.search(one(i)));
    const trace: CellProbeTrace = { reranked: [], certified: false };
    const f = await timed('fast', () => fast.search(one(i), trace));
    const [es, fs] = [imageScore(e, i), imageScore(f, i)];
    reranked += trace.reranked.length;
    if (trace.reranked.includes(es.patch)) maxReranked++;
    if (trace.certified) certified++;
    scores.exact.push(es.score);
    scores.fast.push(fs.score);
    maxScoreDiff = Math.max(maxScoreDiff, Math.abs(es.score - fs.score));
    for (let p = 0; p < perImage; p++) {
      if (e.indices[p] === f.indices[p]) same++;
      ratio += f.distances[p] / Math.max(e.distances[p], 1e-6);
    }
  }
  await Promise.all([exact.release(), fast.release()]);
  const aurocOf = (s: number[]) =>
    auroc(
      s.filter((_, i) => labels[i]),
      s.filter((_, i) => !labels[i]),
    );
  const images = test.names.length;
  const row = {
    set,
    bankRows: size,
    testImages: images,
    cellProbeBuildMs: round(buildMs, 0),
    exactMs: round(median(ms.exact), 2),
    cellProbeMs: round(median(ms.fast), 2),
    speedup: round(median(ms.exact) / median(ms.fast), 2),
    exactCpuMs: round(cpu.exact / images, 2),
    cellProbeCpuMs: round(cpu.fast / images, 2),
    cpuSpeedup: round(cpu.exact / cpu.fast, 2),
    recallAt1: round(same / (images * perImage), 3),
    distanceRatio: round(ratio / (images * perImage), 3),
    rerankedShare: round(reranked / (images * perImage), 3),
    maxReranked: round(maxReranked / images, 3),
    certified: round(certified / images, 3),
    maxImageScoreDiff: round(maxScoreDiff),
    imageAurocExact: round(aurocOf(scores.exact)),
    imageAurocCellProbe: round(aurocOf(scores.fast)),
  };
  rows.push(row);
  console.error(JSON.stringify(row));
}
await extractor.release();
console.log(
  `Search, exact vs cell-probe (${JSON.stringify(cellProbe)}), wall medians and CPU means per image; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}:\n`,
);
console.log(
  '| set | bank rows | images | exact ms | cell-probe ms | wall speedup | exact CPU ms | cell-probe CPU ms | CPU speedup | recall@1 | distance ratio | re-ranked | max re-ranked | certified | image score max diff | image AUROC exact / cell-probe |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows)
  console.log(
    `| ${r.set} | ${r.bankRows} | ${r.testImages} | ${r.exactMs} | ${r.cellProbeMs} | ${r.speedup} | ${r.exactCpuMs} | ${r.cellProbeCpuMs} | ${r.cpuSpeedup} | ${r.recallAt1} | ${r.distanceRatio} | ${r.rerankedShare} | ${r.maxReranked} | ${r.certified} | ${r.maxImageScoreDiff} | ${r.imageAurocExact} / ${r.imageAurocCellProbe} |`,
  );

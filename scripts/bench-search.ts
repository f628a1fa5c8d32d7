/**
 * The patch search, exact against two-stage, on the shared sets in one run: search ms per image and the speedup,
 * recall@1 (share of patches whose nearest row is the exact one), the image scores' largest difference, and image
 * AUROC of both. The bank is built as training builds it (features of train/good, greedy coreset at the default
 * ratio); the exact search is the oracle. Timings alternate the methods image by image, so that a busy machine
 * slows both alike.
 *
 *   npm run bench:search -- [--sets cookie,tire,magnetic_tile] [--test-images N] [--coarse 0.0625] [--rerank 0.08]
 */
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
import { PatchScorer } from '../functions/engine/scoring/patch-scorer.ts';
import { DEFAULT_TWO_STAGE, type TwoStageTrace } from '../functions/engine/search/two-stage-search.ts';
import { TRAINING_DEFAULTS } from '../functions/engine/training/train.ts';
import { extractFeatureSet } from '../functions/engine/training/feature-pass.ts';

const { values } = parseArgs({
  options: {
    sets: { type: 'string', default: 'cookie,tire,magnetic_tile' },
    'test-images': { type: 'string' },
    coarse: { type: 'string', default: String(DEFAULT_TWO_STAGE.coarseShare) },
    rerank: { type: 'string', default: String(DEFAULT_TWO_STAGE.rerankShare) },
  },
});
const twoStage = { coarseShare: Number(values.coarse), rerankShare: Number(values.rerank) };
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
  const memory = { data: bank, rows: size, dims };
  const neighbours = TRAINING_DEFAULTS.neighbours;
  const exact = await PatchScorer.create(memory, perImage, neighbours, { search: { method: 'exact' } });
  const fast = await PatchScorer.create(memory, perImage, neighbours, { search: { method: 'two-stage', twoStage } });
  const one = (i: number) => test.features.subarray(i * perImage * dims, (i + 1) * perImage * dims);
  for (let i = 0; i < Math.min(3, test.names.length); i++) {
    await exact.score(one(i), 1);
    await fast.score(one(i), 1);
  }
  const ms = { exact: [] as number[], fast: [] as number[] };
  // CPU time (all threads) as well as wall time: on a shared machine the wall time of a multi-threaded run mostly
  // measures waiting for a core, the CPU time the work done.
  const cpu = { exact: 0, fast: 0 };
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1000;
  };
  const scores = { exact: [] as number[], fast: [] as number[] };
  let same = 0;
  let reranked = 0;
  let rounds = 0;
  let maxScoreDiff = 0;
  for (let i = 0; i < test.names.length; i++) {
    let t = 0;
    let c = process.cpuUsage();
    const [e] = await exact.score(one(i), 1, (v) => (t = v));
    cpu.exact += cpuMs(c);
    ms.exact.push(t);
    const trace: TwoStageTrace = { reranked: 0, rounds: 0 };
    c = process.cpuUsage();
    const [f] = await fast.score(one(i), 1, (v) => (t = v), trace);
    cpu.fast += cpuMs(c);
    ms.fast.push(t);
    reranked += trace.reranked;
    rounds += trace.rounds;
    scores.exact.push(e.image.score);
    scores.fast.push(f.image.score);
    maxScoreDiff = Math.max(maxScoreDiff, Math.abs(e.image.score - f.image.score));
    for (let p = 0; p < perImage; p++) if (e.nearest[p] === f.nearest[p]) same++;
  }
  await Promise.all([exact.release(), fast.release()]);
  const aurocOf = (s: number[]) =>
    auroc(
      s.filter((_, i) => labels[i]),
      s.filter((_, i) => !labels[i]),
    );
  const row = {
    set,
    bankRows: size,
    testImages: test.names.length,
    exactMs: round(median(ms.exact), 2),
    twoStageMs: round(median(ms.fast), 2),
    speedup: round(median(ms.exact) / median(ms.fast), 2),
    exactCpuMs: round(cpu.exact / test.names.length, 2),
    twoStageCpuMs: round(cpu.fast / test.names.length, 2),
    cpuSpeedup: round(cpu.exact / cpu.fast, 2),
    recallAt1: round(same / (test.names.length * perImage)),
    rerankedShare: round(reranked / (test.names.length * perImage)),
    exactRounds: round(rounds / test.names.length, 2),
    maxImageScoreDiff: maxScoreDiff,
    imageAurocExact: round(aurocOf(scores.exact)),
    imageAurocTwoStage: round(aurocOf(scores.fast)),
  };
  rows.push(row);
  console.error(JSON.stringify(row));
}
await extractor.release();
console.log(
  `Search, exact vs two-stage (coarse ${twoStage.coarseShare} of the bank, re-rank from ${twoStage.rerankShare} of the patches), medians per image:\n`,
);
console.log(
  '| set | bank rows | images | exact ms | two-stage ms | speedup | recall@1 | re-ranked | image score max diff | image AUROC exact / two-stage |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows)
  console.log(
    `| ${r.set} | ${r.bankRows} | ${r.testImages} | ${r.exactMs} | ${r.twoStageMs} | ${r.speedup} | ${r.exactCpuMs} | ${r.twoStageCpuMs} | ${r.cpuSpeedup} | ${r.recallAt1} | ${r.rerankedShare} | ${r.maxImageScoreDiff} | ${r.imageAurocExact} / ${r.imageAurocTwoStage} |`,
  );

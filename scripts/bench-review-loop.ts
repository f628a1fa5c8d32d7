/**
 * Review-loop benchmark (npm run bench:review): on cookie, the time to make an incremental model version from
 * --reviewed reviewed images (their patches added to the memory bank, training/extend-bank.ts) against a full
 * retraining on the training images plus those images, both in this run, --runs times each, alternating; the engine's
 * work only (what the two jobs run), after one warm-up training. Also how the incremental version answers: the
 * reviewed images and the cracked cookies flagged before and after. Figures go to bench-results/review-loop.{json,md}.
 * Flags (or FAULTLINE_BENCH_*): --reviewed 10, --runs 3.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelArtifact } from '../functions/engine/artifact/model-artifact.ts';
import { fileImage } from '../functions/engine/dataset/image-source.ts';
import { Detector } from '../functions/engine/detection/detector.ts';
import { extendMemoryBank } from '../functions/engine/training/extend-bank.ts';
import { train } from '../functions/engine/training/train.ts';
import { cookie, describeMachine, machine, numericFlags, writeReport } from './bench/common.ts';

const flags = numericFlags({ reviewed: 10, runs: 3 });
if (flags.runs < 1 || flags.reviewed < 1) throw new Error('--runs and --reviewed must be at least 1');
const at = machine();
const folder = (sub: string) => join(cookie, sub);
const images = (sub: string) =>
  readdirSync(folder(sub))
    .sort()
    .map((f) => fileImage(`${sub}/${f}`, join(folder(sub), f)));
const training = images('train/good');
const goods = images('test/good');
if (goods.length < flags.reviewed) throw new Error(`cookie has ${goods.length} good test images; --reviewed is larger`);
const reviewed = goods.slice(0, flags.reviewed);
const cracked = images('test/cracked');
const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function flagged(artifact: ModelArtifact, set: typeof goods): Promise<number> {
  const detector = await Detector.load(artifact);
  try {
    let n = 0;
    for (const image of set)
      if ((await detector.detect(await image.read(), { visualizations: false })).result.is_anomalous) n++;
    return n;
  } finally {
    await detector.release();
  }
}

log('warm-up: training once (backbone set-up, caches)');
const { artifact: base } = await train(training);
const full: number[] = [];
const incremental: number[] = [];
let extended: ModelArtifact | undefined;
let retrained: ModelArtifact | undefined;
for (let run = 0; run < flags.runs; run++) {
  let t = performance.now();
  retrained = (await train([...training, ...reviewed])).artifact;
  full.push(performance.now() - t);
  t = performance.now();
  extended = (await extendMemoryBank(base, reviewed)).artifact;
  incremental.push(performance.now() - t);
  log(`run ${run + 1}: full ${Math.round(full.at(-1)!)} ms, incremental ${Math.round(incremental.at(-1)!)} ms`);
}
const answers = {
  reviewedFlagged: {
    before: await flagged(base, reviewed),
    after: await flagged(extended!, reviewed),
    retrained: await flagged(retrained!, reviewed),
  },
  crackedFlagged: {
    before: await flagged(base, cracked),
    after: await flagged(extended!, cracked),
    retrained: await flagged(retrained!, cracked),
  },
};
const report = {
  date: new Date().toISOString(),
  machine: at,
  trainingImages: training.length,
  reviewedImages: reviewed.length,
  bankRows: { base: base.manifest.memoryBank.rows, incremental: extended!.manifest.memoryBank.rows },
  fullRetrainingMs: { runs: full.map(Math.round), median: Math.round(median(full)) },
  incrementalMs: { runs: incremental.map(Math.round), median: Math.round(median(incremental)) },
  speedup: Number((median(full) / median(incremental)).toFixed(1)),
  answers: { ...answers, cracked: cracked.length },
};
await writeReport(
  'review-loop',
  report,
  `# Review loop: incremental version against full retraining (cookie)

${describeMachine(at)}; ${training.length} training images, ${reviewed.length} reviewed images, ${flags.runs} runs each.

| | median | runs |
|---|---|---|
| full retraining (${training.length} + ${reviewed.length} images) | ${report.fullRetrainingMs.median} ms | ${report.fullRetrainingMs.runs.join(', ')} |
| incremental version (${reviewed.length} images into the bank) | ${report.incrementalMs.median} ms | ${report.incrementalMs.runs.join(', ')} |

Incremental: x${report.speedup} faster; bank ${report.bankRows.base} -> ${report.bankRows.incremental} rows.
Flagged by the base model -> the incremental version (the full retraining):
reviewed images ${answers.reviewedFlagged.before} -> ${answers.reviewedFlagged.after} (${answers.reviewedFlagged.retrained}) of ${reviewed.length};
cracked cookies ${answers.crackedFlagged.before} -> ${answers.crackedFlagged.after} (${answers.crackedFlagged.retrained}) of ${cracked.length}.
`,
);

/**
 * Object detector benchmark (npm run bench:detect-objects): a YOLO-shaped model built in code (scripts/bench/
 * yolo-bench-model.ts, v8 layout [1, 84, 8400]) on one 1280 x 720 JPEG. Measured in the same run, interleaved:
 *   - in process: ObjectDetector.detect (decode, letterbox, run, decode the output, class-aware NMS, map back);
 *   - bare: onnxruntime's session.run of the same model on a prepared input tensor (a second session, same options).
 * Figures (p50, p95, and their ratio) go to bench-results/detect-objects.{json,md}.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { createSession } from '../functions/engine/onnx/create-session.ts';
import { ObjectDetector } from '../functions/engine/object-detection/object-detector.ts';
import { parseObjectDetectorSpec } from '../functions/engine/object-detection/detector-spec.ts';
import { prepareInput } from '../functions/engine/object-detection/prepare-input.ts';
import { cookie, describeMachine, machine, stats, writeReport } from './bench/common.ts';
import { BENCH_CLASSES, BENCH_SIZE, buildBenchYolo } from './bench/yolo-bench-model.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 50);
const WARMUP = 5;

const model = buildBenchYolo();
const spec = {
  input: { name: 'images', width: BENCH_SIZE, height: BENCH_SIZE },
  output: { layout: 'v8' as const },
  classes: Array.from({ length: BENCH_CLASSES }, (_, i) => `class_${i}`),
};
// A real photo, enlarged to a camera's 1280 x 720 so the letterbox has work.
const image = await sharp(await readFile(join(cookie, 'test', 'cracked', 'anomaly-2.jpg')))
  .resize(1280, 720, { fit: 'fill' })
  .jpeg({ quality: 90 })
  .toBuffer();

const detector = await ObjectDetector.load(model, spec);
const bare = await createSession(model);
// The bare run gets the very tensor the detector feeds the model for this image, prepared once.
const prepared = await prepareInput(image, parseObjectDetectorSpec(spec));
const input = { images: new ort.Tensor('float32', prepared.data, [1, 3, BENCH_SIZE, BENCH_SIZE]) };

const inProcess: number[] = [];
const bareRun: number[] = [];
const stages = { preprocess: [] as number[], inference: [] as number[], postprocess: [] as number[] };
let objects = 0;
const timeDetect = async () => {
  const t = performance.now();
  const result = await detector.detect(image);
  return { ms: performance.now() - t, result };
};
const timeBare = async () => {
  const t = performance.now();
  await bare.run(input);
  return performance.now() - t;
};
for (let i = 0; i < WARMUP + ROUNDS; i++) {
  // Alternate which goes first, so neither always runs on the caches and threads the other just warmed.
  let detected: Awaited<ReturnType<typeof timeDetect>>;
  let bareMs: number;
  if (i % 2 === 0) {
    detected = await timeDetect();
    bareMs = await timeBare();
  } else {
    bareMs = await timeBare();
    detected = await timeDetect();
  }
  if (i < WARMUP) continue;
  inProcess.push(detected.ms);
  bareRun.push(bareMs);
  for (const k of Object.keys(stages) as (keyof typeof stages)[]) stages[k].push(detected.result.timings_ms[k]);
  objects = detected.result.objects.length;
}
await detector.release();
await bare.release();

const m = machine();
const a = stats(inProcess);
const b = stats(bareRun);
const ratio = (x: number, y: number) => Math.round((x / y) * 100) / 100;
const report = {
  date: new Date().toISOString().slice(0, 10),
  machine: m,
  model: { input: `${BENCH_SIZE}x${BENCH_SIZE}`, output: `[1, ${4 + BENCH_CLASSES}, 8400]`, layout: 'v8' },
  image: '1280x720 JPEG',
  rounds: ROUNDS,
  objectsPerImage: objects,
  inProcessMs: a,
  bareOnnxruntimeMs: b,
  ratio: { p50: ratio(a.p50, b.p50), p95: ratio(a.p95, b.p95) },
  stagesMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, stats(v)])),
};
await writeReport(
  'detect-objects',
  report,
  [
    `# Object detector latency (${report.date})`,
    '',
    describeMachine(m),
    '',
    `YOLO-shaped model ${report.model.input} -> ${report.model.output}, one ${report.image}, ${ROUNDS} rounds, ${objects} objects per image after NMS.`,
    '',
    '| | p50 ms | p95 ms |',
    '|---|---|---|',
    `| in process (decode, letterbox, run, decode output, NMS) | ${a.p50} | ${a.p95} |`,
    `| bare onnxruntime run | ${b.p50} | ${b.p95} |`,
    `| ratio | x${report.ratio.p50} | x${report.ratio.p95} |`,
    `| stages p50: preprocess / inference / postprocess | ${report.stagesMs.preprocess.p50} / ${report.stagesMs.inference.p50} / ${report.stagesMs.postprocess.p50} | |`,
    '',
  ].join('\n'),
);

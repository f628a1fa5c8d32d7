import { availableParallelism, cpus } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelArtifact, saveModelArtifact } from '../artifact/model-artifact.ts';
import { prepareBackbone } from '../backbone/obtain-backbone.ts';
import { quantile } from '../calibration/score-scale.ts';
import { readMvtecCategory } from '../dataset/mvtec-category.ts';
import { STAGES, type StageTimings } from '../detection/detection-result.ts';
import { Detector } from '../detection/detector.ts';
import { type TrainingReport, type TrainOptions, train } from '../training/train.ts';
import { ENGINE_VERSION } from '../version.ts';
import { executionProvidersSetting } from '../paths.ts';
import { backboneBaseline, matmulBaseline, timeRuns } from './baselines.ts';

export interface BenchmarkOptions extends TrainOptions {
  /** MVTec-layout category: train/good builds the bank, test/good calibrates, test/* is detected. */
  dataset: string;
  trainImages?: number;
  testImages?: number;
  /** Images detected with visualizations on, for the encode stage. */
  visualizedImages?: number;
  onBenchmarkProgress?: (stage: string, done: number, total: number) => void;
}

export interface Distribution {
  p50: number;
  p95: number;
  mean: number;
}

export interface BenchmarkReport {
  environment: { node: string; platform: string; cpu: string; cores: number; engine: string; providers: string };
  dataset: string;
  settings: {
    trainImages: number;
    bankRows: number;
    dims: number;
    grid: number;
    /** Side of the inspected image (tiled above the backbone input). */
    resolution: number;
    testImages: number;
    batchSize: number;
    resize: string;
  };
  training: TrainingReport['timingsMs'] & { imagesPerSecond: number };
  /** Loading the saved artifact and creating both sessions. */
  loadMs: number;
  /** One image at a time, without visualizations, per stage and end to end. */
  latencyMs: Record<keyof StageTimings | 'total', Distribution>;
  /** One image at a time with the five PNG visualizations. */
  latencyWithVisualizationsMs: Distribution;
  throughput: { singleImagesPerSecond: number; batchedImagesPerSecond: number; batchSize: number };
  baselines: { backboneAloneMs: Distribution; searchAsOneMatmulMs: Distribution };
  ratios: { backboneVsBaseline: number; searchVsMatmul: number; batchedVsSingle: number };
  peakRssMb: number;
}

const round = (v: number, digits = 2): number => Number(v.toFixed(digits));

function distribution(values: number[]): Distribution {
  return {
    p50: round(quantile(values, 0.5)),
    p95: round(quantile(values, 0.95)),
    mean: round(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)),
  };
}

/** Picks n items spread evenly over a list (the test set is ordered by defect type). */
const spread = <T>(items: T[], n: number): T[] =>
  n >= items.length ? items : Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]);

/**
 * The engine's benchmark: trains on up to trainImages normal images (all in the bank, calibration on test/good),
 * then times detection stage by stage, batched throughput, and the baselines, all in this one run.
 */
export async function runBenchmark(options: BenchmarkOptions): Promise<BenchmarkReport> {
  const { dataset, trainImages = 200, testImages = 60, visualizedImages = 20 } = options;
  const batchSize = options.batchSize ?? 8;
  const progress = (stage: string, done: number, total: number) => options.onBenchmarkProgress?.(stage, done, total);
  const category = readMvtecCategory(dataset);
  const normalsForCalibration = category.test
    .filter((t) => !t.anomalous)
    .slice(0, 20)
    .map((t) => t.image);
  const calibrationImages = category.validation.length > 0 ? category.validation : normalsForCalibration;
  const calibrationNames = new Set(calibrationImages.map((c) => c.name));
  const trainSet = category.train.slice(0, trainImages);
  const tests = spread(
    category.test.filter((t) => !calibrationNames.has(t.image.name)),
    testImages,
  );
  const images = await Promise.all(tests.map(async (t) => ({ name: t.image.name, bytes: await t.image.read() })));

  const { artifact, report: training } = await train(trainSet, {
    ...options,
    calibrationImages,
    onProgress: (p) => progress(p.stage, p.done, p.total),
  });
  const dir = await mkdtemp(join(tmpdir(), 'faultline-bench-'));
  try {
    await saveModelArtifact(dir, artifact);
    const loadStarted = performance.now();
    const detector = await Detector.load(await loadModelArtifact(dir), { batchSize });
    const loadMs = performance.now() - loadStarted;
    try {
      for (const image of images.slice(0, 3)) await detector.detect(image.bytes); // warm-up: first runs allocate

      const stages = Object.fromEntries([...STAGES, 'total'].map((s) => [s, [] as number[]])) as Record<
        keyof StageTimings | 'total',
        number[]
      >;
      const singleStarted = performance.now();
      for (const [i, image] of images.entries()) {
        const t = performance.now();
        const { result } = await detector.detect(image.bytes);
        stages.total.push(performance.now() - t);
        for (const s of STAGES) stages[s].push(result.timings_ms[s]);
        progress('detect', i + 1, images.length);
      }
      const singleSeconds = (performance.now() - singleStarted) / 1000;

      const visualized = images.slice(0, visualizedImages);
      const withVis: number[] = [];
      for (const [i, image] of visualized.entries()) {
        const t = performance.now();
        const { result } = await detector.detect(image.bytes, { visualizations: true });
        withVis.push(performance.now() - t);
        stages.encode.push(result.timings_ms.encode);
        progress('visualize', i + 1, visualized.length);
      }
      stages.encode = stages.encode.filter((v) => v > 0);

      const batchedStarted = performance.now();
      for (let start = 0; start < images.length; start += batchSize) {
        await detector.detectBatch(images.slice(start, start + batchSize));
        progress('batched', Math.min(start + batchSize, images.length), images.length);
      }
      const batchedSeconds = (performance.now() - batchedStarted) / 1000;

      const backbone = await prepareBackbone({
        backbone: artifact.manifest.backbone.id,
        layers: artifact.manifest.backbone.layers,
        aggregation: artifact.manifest.backbone.aggregation,
      });
      const runs = Math.max(20, images.length);
      progress('baselines', 0, 2);
      const backboneAlone = await backboneBaseline(
        backbone.backbonePath,
        backbone.manifest.input.name,
        backbone.manifest.input.size,
        runs,
      );
      progress('baselines', 1, 2);
      const { rows, dims } = artifact.manifest.memoryBank;
      const matmul = await matmulBaseline(artifact.bank, rows, dims, artifact.manifest.backbone.grid ** 2, runs);
      progress('baselines', 2, 2);

      const latencyMs = Object.fromEntries(
        Object.entries(stages).map(([s, v]) => [s, distribution(v.length ? v : [0])]),
      ) as BenchmarkReport['latencyMs'];
      const baselines = { backboneAloneMs: distribution(backboneAlone), searchAsOneMatmulMs: distribution(matmul) };
      const single = images.length / singleSeconds;
      const batched = images.length / batchedSeconds;
      return {
        environment: {
          node: process.version,
          platform: `${process.platform}-${process.arch}`,
          cpu: cpus()[0]?.model ?? 'unknown',
          cores: availableParallelism(),
          engine: ENGINE_VERSION,
          providers: executionProvidersSetting() ?? 'cpu',
        },
        dataset,
        settings: {
          trainImages: training.trainImages,
          bankRows: rows,
          dims,
          grid: artifact.manifest.backbone.grid,
          resolution: artifact.manifest.preprocessing.size,
          testImages: images.length,
          batchSize,
          resize: artifact.manifest.preprocessing.resize,
        },
        training: {
          ...training.timingsMs,
          imagesPerSecond: round(training.trainImages / (training.timingsMs.total / 1000)),
        },
        loadMs: round(loadMs),
        latencyMs,
        latencyWithVisualizationsMs: distribution(withVis.length ? withVis : [0]),
        throughput: { singleImagesPerSecond: round(single), batchedImagesPerSecond: round(batched), batchSize },
        baselines,
        ratios: {
          backboneVsBaseline: round(latencyMs.backbone.p50 / baselines.backboneAloneMs.p50),
          searchVsMatmul: round(latencyMs.search.p50 / baselines.searchAsOneMatmulMs.p50),
          batchedVsSingle: round(batched / single),
        },
        peakRssMb: round(process.resourceUsage().maxRSS / 1024, 0),
      };
    } finally {
      await detector.release();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The report as a Markdown table, for people. */
export function benchmarkTable(r: BenchmarkReport): string {
  const lines = [
    `Faultline benchmark: ${r.dataset}, ${r.settings.trainImages} training images, bank ${r.settings.bankRows} x ${r.settings.dims}, ${r.environment.cores} cores (${r.environment.cpu})`,
    '',
    '| stage | p50 ms | p95 ms | mean ms |',
    '|---|---:|---:|---:|',
    ...(Object.entries(r.latencyMs) as [string, Distribution][]).map(
      ([s, d]) => `| ${s} | ${d.p50} | ${d.p95} | ${d.mean} |`,
    ),
    `| total with visualizations | ${r.latencyWithVisualizationsMs.p50} | ${r.latencyWithVisualizationsMs.p95} | ${r.latencyWithVisualizationsMs.mean} |`,
    '',
    '| baseline (same run) | p50 ms | engine stage p50 ms | ratio |',
    '|---|---:|---:|---:|',
    `| backbone alone (original model, ORT) | ${r.baselines.backboneAloneMs.p50} | ${r.latencyMs.backbone.p50} | ${r.ratios.backboneVsBaseline} |`,
    `| search as one MatMul | ${r.baselines.searchAsOneMatmulMs.p50} | ${r.latencyMs.search.p50} | ${r.ratios.searchVsMatmul} |`,
    '',
    `Throughput: ${r.throughput.singleImagesPerSecond} images/s one at a time, ${r.throughput.batchedImagesPerSecond} images/s in batches of ${r.throughput.batchSize} (x${r.ratios.batchedVsSingle}).`,
    `Training: ${r.training.total} ms (features ${r.training.features}, coreset ${r.training.coreset}, calibration ${r.training.calibration}); model load ${r.loadMs} ms; peak RSS ${r.peakRssMb} MB.`,
  ];
  return `${lines.join('\n')}\n`;
}

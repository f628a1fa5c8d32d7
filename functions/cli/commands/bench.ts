import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { benchmarkTable, runBenchmark } from '../../engine/benchmark/run-benchmark.ts';
import { sharedDir } from '../../engine/paths.ts';
import { positiveInteger, printJson } from '../output.ts';
import { StageProgress } from '../progress.ts';
import { addTrainingOptions, type TrainingFlags, trainOptionsFrom } from '../training-options.ts';

interface BenchFlags extends TrainingFlags {
  dataset: string;
  trainImages: number;
  testImages: number;
  out: string;
  progress: boolean;
}

export function registerBench(program: Command): void {
  addTrainingOptions(
    program
      .command('bench')
      .description(
        'time training and detection stage by stage, with baselines measured in the same run; JSON on stdout, table and JSON written to --out',
      )
      .option('--dataset <dir>', 'MVTec-layout category', join(sharedDir(), 'datasets', 'magnetic_tile'))
      .option('--train-images <n>', 'normal images in the memory bank', positiveInteger('--train-images'), 200)
      .option('--test-images <n>', 'images detected one at a time and in batches', positiveInteger('--test-images'), 60)
      .option('-o, --out <dir>', 'folder for bench.json and bench.md', 'bench-results')
      .option('--no-progress', 'no progress bars on stderr'),
  ).action(async (flags: BenchFlags) => {
    const progress = new StageProgress(flags.progress);
    const report = await runBenchmark({
      ...trainOptionsFrom(flags),
      dataset: flags.dataset,
      trainImages: flags.trainImages,
      testImages: flags.testImages,
      onBenchmarkProgress: (stage, done, total) => progress.update(stage, done, total),
    });
    progress.stop();
    await mkdir(flags.out, { recursive: true });
    const table = benchmarkTable(report);
    await writeFile(join(flags.out, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(flags.out, 'bench.md'), table);
    process.stderr.write(`\n${table}\nwritten to ${resolve(flags.out)}/bench.{json,md}\n`);
    printJson(report);
  });
}

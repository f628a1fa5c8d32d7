import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { InvalidOptionError } from '../../engine/errors.ts';
import { saveModelArtifact } from '../../engine/artifact/model-artifact.ts';
import { evaluateCategory, evaluateTrainingSize } from '../../engine/evaluation/evaluate-category.ts';
import { positiveInteger, printJson } from '../output.ts';
import { StageProgress } from '../progress.ts';
import { addTrainingOptions, type TrainingFlags, trainOptionsFrom } from '../training-options.ts';

interface EvalFlags extends TrainingFlags {
  trainImages?: number;
  draws: number;
  out?: string;
  json?: string;
  progress: boolean;
}

export function registerEval(program: Command): void {
  addTrainingOptions(
    program
      .command('eval')
      .description(
        'train on train/good, calibrate on validation/good or held-out images, score test/*: AUROC, F1, timings',
      )
      .argument('<category>', 'MVTec-layout category folder')
      .option(
        '--train-images <n>',
        'train on n images drawn at random from train/good; reports the spread over --draws draws',
        positiveInteger('--train-images'),
      )
      .option(
        '--draws <k>',
        'random draws of --train-images (seeds --seed, --seed + 1, ...)',
        positiveInteger('--draws'),
        3,
      )
      .option('-o, --out <model>', 'also save the trained model (with its metrics) there (not with --train-images)')
      .option('--json <file>', 'also write the report to this file')
      .option('--no-progress', 'no progress bars on stderr'),
  ).action(async (category: string, flags: EvalFlags) => {
    const progress = new StageProgress(flags.progress);
    if (flags.trainImages !== undefined) {
      if (flags.out)
        throw new InvalidOptionError('--out saves one model; it cannot be used with --train-images', {
          out: flags.out,
        });
      const sized = await evaluateTrainingSize(category, {
        ...trainOptionsFrom(flags),
        trainImages: flags.trainImages,
        draws: flags.draws,
        drawSeed: flags.seed,
        onEvaluationProgress: (p) => progress.update(p.stage, p.done, p.total),
      });
      progress.stop();
      await writeReport(flags.json, sized);
      printJson(sized);
      return;
    }
    const { report, artifact } = await evaluateCategory(category, {
      ...trainOptionsFrom(flags),
      onEvaluationProgress: (p) => progress.update(p.stage, p.done, p.total),
    });
    progress.stop();
    if (flags.out) await saveModelArtifact(flags.out, artifact);
    await writeReport(flags.json, report);
    printJson(report);
  });
}

async function writeReport(file: string | undefined, report: unknown): Promise<void> {
  if (!file) return;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
}

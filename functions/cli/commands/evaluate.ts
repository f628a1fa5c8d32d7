import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { saveModelArtifact } from '../../engine/artifact/model-artifact.ts';
import { evaluateCategory } from '../../engine/evaluation/evaluate-category.ts';
import { printJson } from '../output.ts';
import { StageProgress } from '../progress.ts';
import { addTrainingOptions, type TrainingFlags, trainOptionsFrom } from '../training-options.ts';

interface EvalFlags extends TrainingFlags {
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
      .option('-o, --out <model>', 'also save the trained model (with its metrics) there')
      .option('--json <file>', 'also write the report to this file')
      .option('--no-progress', 'no progress bars on stderr'),
  ).action(async (category: string, flags: EvalFlags) => {
    const progress = new StageProgress(flags.progress);
    const { report, artifact } = await evaluateCategory(category, {
      ...trainOptionsFrom(flags),
      onEvaluationProgress: (p) => progress.update(p.stage, p.done, p.total),
    });
    progress.stop();
    if (flags.out) await saveModelArtifact(flags.out, artifact);
    if (flags.json) {
      await mkdir(dirname(flags.json), { recursive: true });
      await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
    }
    printJson(report);
  });
}

import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { prepareBackbone } from '../../engine/backbone/obtain-backbone.ts';
import { classifierSpecSchema } from '../../engine/classification/classifier-spec.ts';
import { OnnxClassifier } from '../../engine/classification/onnx-classifier.ts';
import { trainClassifier, type TrainedClassifier } from '../../engine/classification/train-classifier.ts';
import { readLabelledFolders } from '../../engine/dataset/labelled-folders.ts';
import { DatasetError, InvalidOptionError } from '../../engine/errors.ts';
import { evaluateDefectTypes } from '../../engine/evaluation/evaluate-defect-types.ts';
import { fraction, numberOption, positiveInteger, printJson } from '../output.ts';
import { StageProgress } from '../progress.ts';

/** The files `classify train` writes: the graph and its spec, what POST .../models/upload takes. */
export const CLASSIFIER_FILES = { model: 'model.onnx', spec: 'spec.json', report: 'report.json' } as const;

interface ClassifierTrainFlags {
  folds: number;
  head: string;
  backbone?: string;
  seed: number;
  regions?: boolean;
  progress: boolean;
}

const folds = numberOption('--folds', (v) => Number.isInteger(v) && v >= 2 && v <= 20, 'an integer from 2 to 20');

async function trainFrom(dir: string, flags: ClassifierTrainFlags): Promise<TrainedClassifier> {
  const images = readLabelledFolders(dir, { regions: flags.regions });
  if (images.length === 0)
    throw new DatasetError(
      'DATASET_INVALID',
      `no labelled images under ${dir}: put each class's images in a sub-folder named after the class`,
      { path: dir },
    );
  const backbone = await prepareBackbone({ backbone: flags.backbone });
  const progress = new StageProgress(flags.progress);
  try {
    return await trainClassifier(images, {
      backbone: {
        bytes: await readFile(backbone.backbonePath),
        manifest: backbone.manifest,
        fileName: backbone.manifest.file,
      },
      folds: flags.folds,
      seed: flags.seed,
      headName: flags.head,
      onProgress: (p) => progress.update(p.stage, p.done, p.total),
    });
  } finally {
    progress.stop();
  }
}

const trainingOptions = (command: Command): Command =>
  command
    .argument('<dir>', 'one sub-folder of images per class, or an MVTec-layout category (its test defect folders)')
    .option('--folds <k>', 'cross-validation folds', folds, 5)
    .option('--head <name>', 'the head’s name in the spec (a lower-case identifier)', 'class')
    .option('--backbone <id>', 'backbone manifest id or path (default: the default backbone)')
    .option('--seed <n>', 'seed of the fold assignment', numberOption('--seed', Number.isInteger, 'an integer'), 0)
    .option(
      '--regions',
      'MVTec category: each defect image as the crop around its ground-truth region (how detected regions are named)',
    )
    .option('--no-progress', 'no progress bars on stderr');

export function registerClassify(program: Command): void {
  const classify = program
    .command('classify')
    .description('image classifiers: train one on the backbone’s features, evaluate it, classify images');
  trainingOptions(
    classify
      .command('train')
      .description(
        'train a classifier (logistic regression on pooled backbone features, k-fold cross-validated, temperature-calibrated) and export it as one ONNX graph with its spec',
      )
      .requiredOption('-o, --out <dir>', 'folder to write model.onnx, spec.json and report.json to (replaced)'),
  ).action(async (dir: string, flags: ClassifierTrainFlags & { out: string }) => {
    const trained = await trainFrom(dir, flags);
    // Written beside and renamed into place, so that a folder is never half a model.
    const staging = `${flags.out}.partial-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const report = { evaluation: trained.evaluation, skipped: trained.skipped, timingsMs: trained.timingsMs };
    await writeFile(join(staging, CLASSIFIER_FILES.model), trained.onnx);
    await writeFile(join(staging, CLASSIFIER_FILES.spec), `${JSON.stringify(trained.spec, null, 2)}\n`);
    await writeFile(join(staging, CLASSIFIER_FILES.report), `${JSON.stringify(report, null, 2)}\n`);
    await rm(flags.out, { recursive: true, force: true });
    await rename(staging, flags.out);
    printJson({ model: resolve(flags.out), ...report });
  });
  trainingOptions(
    classify
      .command('eval')
      .description(
        'cross-validate a classifier on labelled folders: accuracy, macro F1, confusion matrix (writes nothing)',
      ),
  ).action(async (dir: string, flags: ClassifierTrainFlags) => {
    const trained = await trainFrom(dir, flags);
    printJson({ evaluation: trained.evaluation, skipped: trained.skipped, timingsMs: trained.timingsMs });
  });
  classify
    .command('eval-detected')
    .description(
      'defect types end to end on an MVTec-layout category: an anomaly model finds regions on the defective test images; in k folds a classifier trained on the other folds\u2019 ground-truth crops types each held-out image\u2019s detected region (and, as the baseline, its ground-truth crop)',
    )
    .argument('<category>', 'MVTec-layout category with ground-truth masks (its test defect folders are the types)')
    .option('--folds <k>', 'cross-validation folds', folds, 5)
    .option('--seed <n>', 'seed of the folds and the draw', numberOption('--seed', Number.isInteger, 'an integer'), 0)
    .option(
      '--train-images <n>',
      'normal images the anomaly model learns from (drawn from train/good; default all)',
      positiveInteger('--train-images'),
    )
    .option(
      '--threshold <t>',
      'the detector\u2019s decision threshold (normalised; default the calibrated 0.5)',
      fraction('--threshold'),
    )
    .option('--backbone <id>', 'the classifier\u2019s backbone manifest id or path (default: the default backbone)')
    .option('--no-progress', 'no progress bars on stderr')
    .action(
      async (
        dir: string,
        flags: {
          folds: number;
          seed: number;
          trainImages?: number;
          threshold?: number;
          backbone?: string;
          progress: boolean;
        },
      ) => {
        const backbone = await prepareBackbone({ backbone: flags.backbone });
        const progress = new StageProgress(flags.progress);
        try {
          printJson(
            await evaluateDefectTypes(dir, {
              backbone: {
                bytes: await readFile(backbone.backbonePath),
                manifest: backbone.manifest,
                fileName: backbone.manifest.file,
              },
              folds: flags.folds,
              seed: flags.seed,
              trainImages: flags.trainImages,
              threshold: flags.threshold,
              onProgress: (p) => progress.update(p.stage, p.done, p.total),
            }),
          );
        } finally {
          progress.stop();
        }
      },
    );
  classify
    .command('predict')
    .description('classify images with a model folder (model.onnx + spec.json, as classify train writes or you upload)')
    .argument('<model>', 'folder with model.onnx and spec.json')
    .argument('<images...>', 'image files')
    .action(async (model: string, images: string[]) => {
      let spec;
      try {
        spec = classifierSpecSchema.parse(JSON.parse(await readFile(join(model, CLASSIFIER_FILES.spec), 'utf8')));
      } catch (error) {
        throw new InvalidOptionError(
          `${join(model, CLASSIFIER_FILES.spec)} is not a valid spec: ${(error as Error).message}`,
        );
      }
      const classifier = await OnnxClassifier.load(await readFile(join(model, CLASSIFIER_FILES.model)), spec);
      try {
        for (const path of images) {
          const c = await classifier.classify(await readFile(path));
          printJson({ image: path, heads: c.heads, model_type: 'onnx', timings_ms: c.timings_ms });
        }
      } finally {
        await classifier.release();
      }
    });
}

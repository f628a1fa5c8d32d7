import { resolve } from 'node:path';
import type { Command } from 'commander';
import { saveModelArtifact } from '../../engine/artifact/model-artifact.ts';
import { imageFolder } from '../../engine/dataset/image-folder.ts';
import { isMvtecCategory, readMvtecCategory } from '../../engine/dataset/mvtec-category.ts';
import { DatasetError } from '../../engine/errors.ts';
import { train } from '../../engine/training/train.ts';
import { printJson } from '../output.ts';
import { StageProgress } from '../progress.ts';
import { addTrainingOptions, type TrainingFlags, trainOptionsFrom } from '../training-options.ts';

interface TrainFlags extends TrainingFlags {
  out: string;
  calibration?: string;
  defective?: string;
  modelVersion?: string;
  progress: boolean;
}

export function registerTrain(program: Command): void {
  addTrainingOptions(
    program
      .command('train')
      .description(
        'train a model on normal images: a folder of them, or an MVTec category (train/good, validation/good)',
      )
      .argument('<dir>', 'folder of normal images, or MVTec-layout category folder')
      .requiredOption('-o, --out <model>', 'folder to write the model artifact to (replaced if it exists)')
      .option(
        '--calibration <dir>',
        'normal images kept apart to calibrate the threshold (default: validation/good, else each training image against a bank of the others)',
      )
      .option('--defective <dir>', 'labelled defective images: the threshold becomes the F1-optimal one')
      .option('--model-version <label>', 'version label stored in the model')
      .option('--no-progress', 'no progress bars on stderr'),
  ).action(async (dir: string, flags: TrainFlags) => {
    const mvtec = isMvtecCategory(dir) ? readMvtecCategory(dir) : undefined;
    const images = mvtec ? mvtec.train : imageFolder(dir);
    if (images.length === 0) throw new DatasetError('DATASET_INVALID', `no images found under ${dir}`, { path: dir });
    const calibrationImages = flags.calibration
      ? imageFolder(flags.calibration)
      : mvtec?.validation.length
        ? mvtec.validation
        : undefined;
    const anomalousImages = flags.defective ? imageFolder(flags.defective).map((image) => ({ image })) : undefined;
    const progress = new StageProgress(flags.progress);
    const { artifact, report } = await train(images, {
      ...trainOptionsFrom(flags),
      calibrationImages,
      anomalousImages,
      version: flags.modelVersion,
      onProgress: (p) => progress.update(p.stage, p.done, p.total),
    });
    progress.stop();
    await saveModelArtifact(flags.out, artifact);
    const m = artifact.manifest;
    printJson({
      model: resolve(flags.out),
      backbone: m.backbone.id,
      layers: m.backbone.layers,
      preprocessing: { resize: m.preprocessing.resize, resizeTo: m.preprocessing.resizeTo, size: m.preprocessing.size },
      trainImages: report.trainImages,
      calibrationImages: report.calibrationImages,
      quality: report.quality,
      bankRows: report.bankRows,
      thresholds: {
        method: m.thresholds.method,
        image: m.thresholds.image.threshold,
        pixel: m.thresholds.pixel.threshold,
      },
      skipped: report.skipped,
      timingsMs: report.timingsMs,
    });
  });
}

import { type Command, Option } from 'commander';
import { DEFAULT_BACKBONE_ID } from '../engine/backbone/backbone-manifest.ts';
import { TRAINING_DEFAULTS, type TrainOptions } from '../engine/training/train.ts';
import { fraction, numberOption, positiveInteger } from './output.ts';

/** Options shared by train, eval and bench: how a model is built. */
export function addTrainingOptions(command: Command): Command {
  const d = TRAINING_DEFAULTS;
  return command
    .option('--backbone <id|manifest.json>', 'backbone manifest id (models/ID.json) or path', DEFAULT_BACKBONE_ID)
    .option('--layers <names>', "feature tensors, comma-separated (default: the manifest's)", (v: string) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .addOption(
      new Option('--resize <mode>', 'direct: squash to the input size; crop: resize to --resize-to, then centre-crop')
        .choices(['direct', 'crop'])
        .default(d.resize),
    )
    .option('--resize-to <px>', 'side resized to before the centre crop', positiveInteger('--resize-to'), d.resizeTo)
    .option(
      '--coreset-ratio <r>',
      'share of training patches kept in the memory bank',
      numberOption('--coreset-ratio', (v) => v > 0 && v <= 1, 'in (0, 1]'),
      d.coresetRatio,
    )
    .option(
      '--projection-dims <n>',
      'dimensions of the random projection the coreset is chosen on',
      positiveInteger('--projection-dims'),
      d.projectionDims,
    )
    .option(
      '--neighbours <n>',
      'bank neighbours in the image-score re-weighting',
      positiveInteger('--neighbours'),
      d.neighbours,
    )
    .option(
      '--blur-sigma <px>',
      'Gaussian blur of the anomaly map, in input pixels',
      numberOption('--blur-sigma', (v) => v >= 0, '>= 0'),
      d.blurSigma,
    )
    .option(
      '--hold-out <share>',
      'share of normal images held out for calibration when no calibration folder is given',
      fraction('--hold-out'),
      d.holdOut,
    )
    .option(
      '--sigmas <k>',
      "threshold at mean + k standard deviations of the calibration images' scores",
      numberOption('--sigmas', (v) => v >= 0 && v <= 10, 'in [0, 10]'),
      d.sigmas,
    )
    .option(
      '--quantile <q>',
      'threshold at this quantile of the calibration scores instead (1 = the largest)',
      numberOption('--quantile', (v) => v > 0 && v <= 1, 'in (0, 1]'),
    )
    .option(
      '--margin <m>',
      'threshold x (1 + margin)',
      numberOption('--margin', (v) => v >= 0 && v < 10, 'in [0, 10)'),
      d.margin,
    )
    .option(
      '--seed <n>',
      'seed of the hold-out split, projection and coreset start',
      numberOption('--seed', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'),
      d.seed,
    )
    .option('--batch-size <n>', 'images per backbone run', positiveInteger('--batch-size'), d.batchSize);
}

export interface TrainingFlags {
  backbone: string;
  layers?: string[];
  resize: 'direct' | 'crop';
  resizeTo: number;
  coresetRatio: number;
  projectionDims: number;
  neighbours: number;
  blurSigma: number;
  holdOut: number;
  sigmas: number;
  quantile?: number;
  margin: number;
  seed: number;
  batchSize: number;
}

/** The flags that are training options (commander's result holds the command's other options too). */
const TRAINING_FLAGS = [
  'backbone',
  'layers',
  'resize',
  'resizeTo',
  'coresetRatio',
  'projectionDims',
  'neighbours',
  'blurSigma',
  'holdOut',
  'sigmas',
  'quantile',
  'margin',
  'seed',
  'batchSize',
] as const satisfies readonly (keyof TrainingFlags)[];

export function trainOptionsFrom(flags: TrainingFlags): TrainOptions {
  return Object.fromEntries(TRAINING_FLAGS.map((name) => [name, flags[name]])) as TrainOptions;
}

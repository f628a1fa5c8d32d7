import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_BACKBONE_ID } from '../engine/backbone/backbone-manifest.ts';
import { AGGREGATIONS } from '../engine/backbone/feature-model.ts';
import {
  INPUT_NORMALISATIONS,
  type InputNormalisation,
  NORMALISATION_CHOICES,
} from '../engine/features/input-statistics.ts';
import { type Augmentation, AUGMENTATIONS } from '../engine/training/augment.ts';
import { TRAINING_DEFAULTS, type TrainOptions } from '../engine/training/train.ts';
import { fraction, numberOption, positiveInteger } from './output.ts';

function augmentList(value: string): Augmentation[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  const unknown = names.filter((n) => !(AUGMENTATIONS as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`--augment takes ${AUGMENTATIONS.join(', ')} or none; got ${unknown.join(', ')}`);
  return names as Augmentation[];
}

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
    .option(
      '--aggregation <k>',
      `side of the neighbourhood each patch's features are averaged over: ${AGGREGATIONS.join(', ')}`,
      numberOption(
        '--aggregation',
        (v) => (AGGREGATIONS as readonly number[]).includes(v),
        `one of ${AGGREGATIONS.join(', ')}`,
      ),
      d.aggregation,
    )
    .addOption(
      new Option('--normalise <stats>', `input pixel statistics: ${NORMALISATION_CHOICES}`)
        .choices(INPUT_NORMALISATIONS)
        .default(d.normalise),
    )
    .addOption(
      new Option('--resize <mode>', 'direct: squash to the input size; crop: resize to --resize-to, then centre-crop')
        .choices(['direct', 'crop'])
        .default(d.resize),
    )
    .option(
      '--resize-to <px>',
      `side resized to before the centre crop (default: ${d.resizeTo} x resolution / 224)`,
      positiveInteger('--resize-to'),
    )
    .option(
      '--resolution <px>',
      "side of the inspected image; above the backbone's input (224) it is cut into overlapping 224 tiles",
      positiveInteger('--resolution'),
    )
    .option('--multi-scale', 'with tiles, also a coarse whole-image view in every patch (twice the values per patch)')
    .option(
      '--coreset-ratio <r>',
      `share of training patches kept in the memory bank (default: ${d.coresetRatio} x (224 / resolution)^2)`,
      numberOption('--coreset-ratio', (v) => v > 0 && v <= 1, 'in (0, 1]'),
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
      '--augment <transforms>',
      `augmented views the product allows when there are few images, comma-separated from ${AUGMENTATIONS.join(', ')} ("none": none)`,
      augmentList,
      d.augment,
    )
    .option(
      '--augment-below <n>',
      'augment when fewer training images than this are given (one image always is)',
      positiveInteger('--augment-below'),
      d.augmentBelow,
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
      '--grow-quantile <q>',
      "regions grow from the pixel threshold down to this quantile of the normal images' pixel scores (1: no growing)",
      numberOption('--grow-quantile', (v) => v > 0 && v <= 1, 'in (0, 1]'),
    )
    .option(
      '--grow-fraction <f>',
      "each region grows down to this share of its peak's height above the grow-quantile floor (0: to the floor)",
      numberOption('--grow-fraction', (v) => v >= 0 && v < 1, 'in [0, 1)'),
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
  aggregation: number;
  normalise: InputNormalisation;
  resize: 'direct' | 'crop';
  resizeTo?: number;
  resolution?: number;
  multiScale?: boolean;
  coresetRatio?: number;
  projectionDims: number;
  neighbours: number;
  blurSigma: number;
  augment: Augmentation[];
  augmentBelow: number;
  sigmas: number;
  quantile?: number;
  growQuantile?: number;
  growFraction?: number;
  margin: number;
  seed: number;
  batchSize: number;
}

/** The flags that are training options (commander's result holds the command's other options too). */
const TRAINING_FLAGS = [
  'backbone',
  'layers',
  'aggregation',
  'normalise',
  'resize',
  'resizeTo',
  'resolution',
  'multiScale',
  'coresetRatio',
  'projectionDims',
  'neighbours',
  'blurSigma',
  'augment',
  'augmentBelow',
  'sigmas',
  'quantile',
  'growQuantile',
  'growFraction',
  'margin',
  'seed',
  'batchSize',
] as const satisfies readonly (keyof TrainingFlags)[];

export function trainOptionsFrom(flags: TrainingFlags): TrainOptions {
  return Object.fromEntries(TRAINING_FLAGS.map((name) => [name, flags[name]])) as TrainOptions;
}

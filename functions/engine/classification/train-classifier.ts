import * as ort from 'onnxruntime-node';
import type { LabelledSource } from '../dataset/labelled-folders.ts';
import { DatasetError, InvalidImageError } from '../errors.ts';
import type { BackboneManifest } from '../backbone/backbone-manifest.ts';
import { classificationMetrics } from '../math/classification-metrics.ts';
import { seededRandom } from '../math/random.ts';
import { createSession } from '../onnx/create-session.ts';
import { type ClassifierSpec, classifierSpecSchema } from './classifier-spec.ts';
import {
  DEFAULT_FIT,
  type FitOptions,
  fitLogistic,
  fitTemperature,
  logitsOf,
  stratifiedFolds,
} from './logistic-regression.ts';
import {
  derivePooledFeatureModel,
  exportClassifierGraph,
  type LinearHead,
  PROBABILITIES_OUTPUT,
} from './pooled-feature-graph.ts';
import { prepareClassifierInput } from './prepare-input.ts';

export interface ClassifierTrainingOptions {
  /** The backbone file's bytes, its manifest and its name (for messages). */
  backbone: { bytes: Uint8Array; manifest: BackboneManifest; fileName: string };
  /** Cross-validation folds (default 5; at least 2). */
  folds?: number;
  seed?: number;
  /** The head's name in the spec (default "class"). */
  headName?: string;
  fit?: FitOptions;
  onProgress?: (p: { stage: 'features' | 'cross-validation' | 'fit'; done: number; total: number }) => void;
}

export interface ClassifierEvaluation {
  folds: number;
  images: number;
  accuracy: number;
  macro_f1: number;
  classes: string[];
  confusion_matrix: number[][];
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  temperature: number;
}

export interface TrainedClassifier {
  /** One ONNX graph: backbone, pooled features, the linear head and a softmax. */
  onnx: Uint8Array;
  /** The head in the graph (temperature folded in): probabilities = softmax(features @ weights + bias). */
  head: LinearHead;
  spec: ClassifierSpec;
  evaluation: ClassifierEvaluation;
  skipped: { name: string; reason: string }[];
  timingsMs: { features: number; crossValidation: number; total: number };
}

const BATCH = 8;

/** The spec the exported graph is read with: the backbone's input, one softmax head of probabilities. */
export function backboneClassifierSpec(
  manifest: BackboneManifest,
  headName: string,
  classes: string[],
): ClassifierSpec {
  return classifierSpecSchema.parse({
    input: {
      name: manifest.input.name,
      width: manifest.input.size,
      height: manifest.input.size,
      resize: 'stretch',
      normalise: { scale: 1 / 255, mean: manifest.input.mean, std: manifest.input.std },
    },
    heads: [{ name: headName, output: PROBABILITIES_OUTPUT, classes, activation: 'softmax', scores: 'probabilities' }],
  });
}

/** Pooled backbone features of each image (rows of `dims`), images that cannot be read left out and listed. */
export async function extractPooledFeatures(
  images: LabelledSource[],
  backbone: ClassifierTrainingOptions['backbone'],
  onProgress?: (done: number, total: number) => void,
): Promise<{
  features: Float32Array;
  kept: LabelledSource[];
  dims: number;
  skipped: { name: string; reason: string }[];
}> {
  const { bytes, dims } = derivePooledFeatureModel(backbone.bytes, backbone.fileName);
  const spec = backboneClassifierSpec(backbone.manifest, 'features', ['x']);
  const session = await createSession(bytes);
  const side = spec.input.width;
  const plane = 3 * side * side;
  const rows: Float32Array[] = [];
  const kept: LabelledSource[] = [];
  const skipped: { name: string; reason: string }[] = [];
  try {
    for (let start = 0; start < images.length; start += BATCH) {
      const batch: Float32Array[] = [];
      for (const item of images.slice(start, start + BATCH)) {
        try {
          batch.push((await prepareClassifierInput(await item.image.read(), spec.input)).data);
          kept.push(item);
        } catch (error) {
          if (!(error instanceof InvalidImageError)) throw error;
          skipped.push({ name: item.image.name, reason: error.message });
        }
      }
      if (batch.length > 0) {
        const input = new Float32Array(batch.length * plane);
        batch.forEach((b, i) => input.set(b, i * plane));
        const out = await session.run({
          [spec.input.name]: new ort.Tensor('float32', input, [batch.length, 3, side, side]),
        });
        const data = out[Object.keys(out)[0]].data as Float32Array;
        for (let i = 0; i < batch.length; i++) rows.push(data.slice(i * dims, (i + 1) * dims));
      }
      onProgress?.(Math.min(start + BATCH, images.length), images.length);
    }
  } finally {
    await session.release();
  }
  const features = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => features.set(r, i * dims));
  return { features, kept, dims, skipped };
}

const pick = (features: Float32Array, dims: number, indices: number[]): Float32Array => {
  const out = new Float32Array(indices.length * dims);
  indices.forEach((idx, k) => out.set(features.subarray(idx * dims, (idx + 1) * dims), k * dims));
  return out;
};

/**
 * Trains an image classifier without a GPU: the backbone's pooled features, a multinomial logistic regression on them,
 * k-fold stratified cross-validation (accuracy, macro F1 and the confusion matrix from the out-of-fold predictions),
 * a temperature fitted on the out-of-fold scores for calibrated probabilities, then the final fit on every image,
 * exported with the backbone as one ONNX graph and its spec.
 */
export async function trainClassifier(
  images: LabelledSource[],
  options: ClassifierTrainingOptions,
): Promise<TrainedClassifier> {
  const started = performance.now();
  const folds = options.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 2 || folds > 20)
    throw new DatasetError('DATASET_INVALID', `folds must be an integer from 2 to 20 (got ${folds})`);
  const extracted = await extractPooledFeatures(images, options.backbone, (done, total) =>
    options.onProgress?.({ stage: 'features', done, total }),
  );
  const { features, kept, dims } = extracted;
  const classes = [...new Set(kept.map((k) => k.label))].sort();
  const counts = classes.map((c) => kept.filter((k) => k.label === c).length);
  if (classes.length < 2 || counts.some((n) => n < 2))
    throw new DatasetError(
      'DATASET_INVALID',
      `a classifier needs at least 2 classes of at least 2 readable images each (got ${classes.map((c, i) => `${c}: ${counts[i]}`).join(', ') || 'none'})`,
      { classes: Object.fromEntries(classes.map((c, i) => [c, counts[i]])) },
    );
  const labels = kept.map((k) => classes.indexOf(k.label));
  const featureMs = performance.now() - started;

  const foldOf = stratifiedFolds(labels, folds, seededRandom(options.seed ?? 0));
  const outOfFold = new Float32Array(labels.length * classes.length);
  for (let f = 0; f < folds; f++) {
    const train = labels.map((_, i) => i).filter((i) => foldOf[i] !== f);
    const test = labels.map((_, i) => i).filter((i) => foldOf[i] === f);
    if (test.length === 0) continue;
    const model = fitLogistic(
      pick(features, dims, train),
      train.map((i) => labels[i]),
      dims,
      classes.length,
      options.fit,
    );
    const logits = logitsOf(model, pick(features, dims, test));
    test.forEach((idx, k) =>
      outOfFold.set(logits.subarray(k * classes.length, (k + 1) * classes.length), idx * classes.length),
    );
    options.onProgress?.({ stage: 'cross-validation', done: f + 1, total: folds });
  }
  const predicted = labels.map((_, i) => {
    const row = outOfFold.subarray(i * classes.length, (i + 1) * classes.length);
    let best = 0;
    for (let c = 1; c < classes.length; c++) if (row[c] > row[best]) best = c;
    return best;
  });
  const metrics = classificationMetrics(labels, predicted, classes.length);
  const temperature = fitTemperature(outOfFold, labels, classes.length);
  const cvMs = performance.now() - started - featureMs;

  const final = fitLogistic(features, labels, dims, classes.length, options.fit ?? DEFAULT_FIT);
  options.onProgress?.({ stage: 'fit', done: 1, total: 1 });
  const head: LinearHead = {
    weights: final.weights.map((w) => w / temperature),
    bias: final.bias.map((b) => b / temperature),
    classes: classes.length,
  };
  const onnx = exportClassifierGraph(options.backbone.bytes, options.backbone.fileName, head);
  const round = (v: number) => Number(v.toFixed(4));
  return {
    onnx,
    head,
    spec: backboneClassifierSpec(options.backbone.manifest, options.headName ?? 'class', classes),
    evaluation: {
      folds,
      images: labels.length,
      accuracy: round(metrics.accuracy),
      macro_f1: round(metrics.macroF1),
      classes,
      confusion_matrix: metrics.confusion,
      per_class: Object.fromEntries(
        classes.map((c, i) => [
          c,
          {
            precision: round(metrics.perClass[i].precision),
            recall: round(metrics.perClass[i].recall),
            f1: round(metrics.perClass[i].f1),
            support: metrics.perClass[i].support,
          },
        ]),
      ),
      temperature: round(temperature),
    },
    skipped: extracted.skipped,
    timingsMs: {
      features: Math.round(featureMs),
      crossValidation: Math.round(cvMs),
      total: Math.round(performance.now() - started),
    },
  };
}

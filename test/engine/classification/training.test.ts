import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadBackboneManifest } from '../../../functions/engine/backbone/backbone-manifest.ts';
import {
  fitLogistic,
  fitTemperature,
  logitsOf,
  stratifiedFolds,
} from '../../../functions/engine/classification/logistic-regression.ts';
import { OnnxClassifier } from '../../../functions/engine/classification/onnx-classifier.ts';
import { softmax } from '../../../functions/engine/classification/read-heads.ts';
import { extractPooledFeatures, trainClassifier } from '../../../functions/engine/classification/train-classifier.ts';
import { fileImage } from '../../../functions/engine/dataset/image-source.ts';
import { classificationMetrics } from '../../../functions/engine/math/classification-metrics.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { sharedDir } from '../../../functions/engine/paths.ts';

describe('classification metrics', () => {
  it('counts accuracy, macro F1 and the confusion matrix as by hand', () => {
    // truth: 0 0 0 1 1 2 ; predicted: 0 0 1 1 1 0
    const m = classificationMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 1, 0], 3);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 2, 0],
      [1, 0, 0],
    ]);
    expect(m.accuracy).toBeCloseTo(4 / 6);
    // F1: class 0 p=2/3 r=2/3 -> 2/3; class 1 p=2/3 r=1 -> 0.8; class 2 -> 0
    expect(m.macroF1).toBeCloseTo((2 / 3 + 0.8 + 0) / 3);
  });
});

describe('logistic regression', () => {
  const random = seededRandom(3);
  const dims = 6;
  const n = 90;
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const features = new Float32Array(n * dims);
  labels.forEach((l, i) => {
    for (let d = 0; d < dims; d++) features[i * dims + d] = (d === l ? 3 : 0) + (random() - 0.5) + 100; // offset: standardisation folded
  });

  it('separates separable classes, reading raw features', () => {
    const model = fitLogistic(features, labels, dims, 3);
    const logits = logitsOf(model, features);
    const predicted = labels.map((_, i) => {
      const row = Array.from(logits.subarray(i * 3, i * 3 + 3));
      return row.indexOf(Math.max(...row));
    });
    expect(classificationMetrics(labels, predicted, 3).accuracy).toBe(1);
  });

  it('deals each class evenly over the folds', () => {
    const folds = stratifiedFolds(labels, 5, seededRandom(1));
    for (let f = 0; f < 5; f++)
      for (let c = 0; c < 3; c++) expect(labels.filter((l, i) => l === c && folds[i] === f)).toHaveLength(6);
  });

  it('finds the temperature that undoes overconfident logits', () => {
    const truth = Array.from({ length: 400 }, (_, i) => i % 2);
    const r = seededRandom(9);
    // Calibrated logits z with label ~ sigmoid(z), then multiplied by 4: the right temperature is about 4.
    const logits = new Float32Array(800);
    const labels2: number[] = [];
    truth.forEach((_, i) => {
      const z = (r() - 0.5) * 6;
      labels2.push(r() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
      logits[i * 2] = 0;
      logits[i * 2 + 1] = 4 * z;
    });
    const t = fitTemperature(logits, labels2, 2);
    expect(t).toBeGreaterThan(2.5);
    expect(t).toBeLessThan(6);
  });
});

const backbonePath = join(sharedDir(), 'models', 'mobilenetv2-12-int8.onnx');
const tile = join(sharedDir(), 'datasets', 'magnetic_tile', 'test');

describe.skipIf(!existsSync(backbonePath) || !existsSync(tile))('training on the backbone', () => {
  it('exports one graph whose probabilities are the head on the pooled features, and cross-validates', async () => {
    const backbone = {
      bytes: await readFile(backbonePath),
      manifest: loadBackboneManifest(),
      fileName: 'mobilenetv2-12-int8.onnx',
    };
    const images = ['blowhole', 'uneven'].flatMap((label) =>
      readdirSync(join(tile, label))
        .sort()
        .slice(0, 8)
        .map((f) => ({ image: fileImage(`${label}/${f}`, join(tile, label, f)), label })),
    );
    const trained = await trainClassifier(images, { backbone, folds: 4, headName: 'defect_type' });
    expect(trained.evaluation.images).toBe(16);
    expect(trained.evaluation.confusion_matrix.flat().reduce((a, b) => a + b, 0)).toBe(16);
    expect(trained.evaluation.accuracy).toBeGreaterThanOrEqual(0.75);
    expect(trained.spec.heads[0]).toMatchObject({ name: 'defect_type', classes: ['blowhole', 'uneven'] });

    const classifier = await OnnxClassifier.load(trained.onnx, trained.spec);
    const bytes = await images[0].image.read();
    const answer = await classifier.classify(bytes);
    const sum = Object.values(answer.heads.defect_type.scores).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 4);
    // The graph's probabilities match the pooled features run through the head here.
    const { features } = await extractPooledFeatures([images[0]], backbone);
    expect(features.length).toBe(1280);
    const logits = logitsOf({ ...trained.head, dims: 1280 }, features);
    const expected = softmax(logits);
    expected.forEach((p, c) =>
      expect(answer.heads.defect_type.scores[trained.spec.heads[0].classes[c]]).toBeCloseTo(p, 3),
    );
    const session = await ort.InferenceSession.create(trained.onnx);
    expect(session.outputNames).toEqual(['probabilities']);
    await session.release();
    expect(answer.heads.defect_type.label).toBe('blowhole');
    await classifier.release();
  }, 120_000);
});

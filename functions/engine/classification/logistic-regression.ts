import { softmax } from './read-heads.ts';

/**
 * Multinomial logistic regression with L2 regularisation, fitted by full-batch Adam on standardised features. The
 * standardisation is folded back into the weights, so the model reads raw features: logits = x @ W + b.
 */
export interface LogisticModel {
  /** [dims, classes], row-major. */
  weights: Float32Array;
  bias: Float32Array;
  dims: number;
  classes: number;
}

export interface FitOptions {
  /** L2 penalty on the standardised weights (per sample). */
  l2?: number;
  iterations?: number;
  learningRate?: number;
}

export const DEFAULT_FIT: Required<FitOptions> = { l2: 1e-2, iterations: 300, learningRate: 0.05 };

/** Fits on rows of `features` (n x dims, row-major) with labels 0..classes-1. */
export function fitLogistic(
  features: Float32Array,
  labels: readonly number[],
  dims: number,
  classes: number,
  options: FitOptions = {},
): LogisticModel {
  const { l2, iterations, learningRate } = { ...DEFAULT_FIT, ...options };
  const n = labels.length;
  // Standardise: mean and sd per feature (sd floor keeps constant features at zero weight).
  const mean = new Float64Array(dims);
  const sd = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) mean[d] += features[i * dims + d] / n;
  for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) sd[d] += (features[i * dims + d] - mean[d]) ** 2 / n;
  for (let d = 0; d < dims; d++) sd[d] = Math.sqrt(sd[d]) || 1;
  const x = new Float64Array(n * dims);
  for (let i = 0; i < n; i++)
    for (let d = 0; d < dims; d++) x[i * dims + d] = (features[i * dims + d] - mean[d]) / sd[d];

  const w = new Float64Array(dims * classes);
  const b = new Float64Array(classes);
  const mw = new Float64Array(w.length);
  const vw = new Float64Array(w.length);
  const mb = new Float64Array(classes);
  const vb = new Float64Array(classes);
  const gw = new Float64Array(w.length);
  const gb = new Float64Array(classes);
  const logits = new Float64Array(classes);
  const beta1 = 0.9;
  const beta2 = 0.999;
  for (let step = 1; step <= iterations; step++) {
    gw.fill(0);
    gb.fill(0);
    for (let i = 0; i < n; i++) {
      const row = i * dims;
      for (let c = 0; c < classes; c++) logits[c] = b[c];
      for (let d = 0; d < dims; d++) {
        const v = x[row + d];
        if (v === 0) continue;
        const wr = d * classes;
        for (let c = 0; c < classes; c++) logits[c] += v * w[wr + c];
      }
      const p = softmax(Array.from(logits));
      p[labels[i]] -= 1;
      for (let c = 0; c < classes; c++) gb[c] += p[c] / n;
      for (let d = 0; d < dims; d++) {
        const v = x[row + d] / n;
        if (v === 0) continue;
        const wr = d * classes;
        for (let c = 0; c < classes; c++) gw[wr + c] += v * p[c];
      }
    }
    for (let k = 0; k < w.length; k++) gw[k] += l2 * w[k];
    const c1 = 1 - beta1 ** step;
    const c2 = 1 - beta2 ** step;
    for (let k = 0; k < w.length; k++) {
      mw[k] = beta1 * mw[k] + (1 - beta1) * gw[k];
      vw[k] = beta2 * vw[k] + (1 - beta2) * gw[k] * gw[k];
      w[k] -= (learningRate * (mw[k] / c1)) / (Math.sqrt(vw[k] / c2) + 1e-8);
    }
    for (let c = 0; c < classes; c++) {
      mb[c] = beta1 * mb[c] + (1 - beta1) * gb[c];
      vb[c] = beta2 * vb[c] + (1 - beta2) * gb[c] * gb[c];
      b[c] -= (learningRate * (mb[c] / c1)) / (Math.sqrt(vb[c] / c2) + 1e-8);
    }
  }
  // Fold the standardisation in: logit_c = sum_d (x_d - mean_d) / sd_d * w_dc + b_c.
  const weights = new Float32Array(dims * classes);
  const bias = new Float32Array(classes);
  for (let c = 0; c < classes; c++) {
    let shift = b[c];
    for (let d = 0; d < dims; d++) {
      weights[d * classes + c] = w[d * classes + c] / sd[d];
      shift -= (w[d * classes + c] * mean[d]) / sd[d];
    }
    bias[c] = shift;
  }
  return { weights, bias, dims, classes };
}

/** The logits of each row. */
export function logitsOf(model: LogisticModel, features: Float32Array): Float32Array {
  const n = features.length / model.dims;
  const out = new Float32Array(n * model.classes);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < model.classes; c++) {
      let v = model.bias[c];
      for (let d = 0; d < model.dims; d++) v += features[i * model.dims + d] * model.weights[d * model.classes + c];
      out[i * model.classes + c] = v;
    }
  return out;
}

/**
 * Temperature scaling: the T that minimises the negative log-likelihood of out-of-fold logits (golden-section search
 * over log T in [-3, 3]); dividing the logits by T calibrates the probabilities without changing any prediction.
 */
export function fitTemperature(logits: Float32Array, labels: readonly number[], classes: number): number {
  const nll = (t: number) => {
    let total = 0;
    for (let i = 0; i < labels.length; i++) {
      const p = softmax(Array.from(logits.subarray(i * classes, (i + 1) * classes), (v) => v / t));
      total -= Math.log(Math.max(p[labels[i]], 1e-12));
    }
    return total / labels.length;
  };
  let lo = -3;
  let hi = 3;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let k = 0; k < 60; k++) {
    const a = hi - g * (hi - lo);
    const b = lo + g * (hi - lo);
    if (nll(Math.exp(a)) < nll(Math.exp(b))) hi = b;
    else lo = a;
  }
  return Math.exp((lo + hi) / 2);
}

/** Stratified folds: each class's indices dealt round-robin after a seeded shuffle; fold index per sample. */
export function stratifiedFolds(labels: readonly number[], folds: number, random: () => number): number[] {
  const fold = new Array<number>(labels.length).fill(0);
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => byClass.set(l, [...(byClass.get(l) ?? []), i]));
  let offset = 0;
  for (const indices of byClass.values()) {
    for (let i = indices.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [indices[i], indices[j]] = [indices[j], indices[i]];
    }
    // The offset carries on between classes so that small classes do not all start in fold 0.
    indices.forEach((index, k) => (fold[index] = (k + offset) % folds));
    offset += indices.length;
  }
  return fold;
}

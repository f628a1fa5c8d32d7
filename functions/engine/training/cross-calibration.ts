import { seededRandom } from '../math/random.ts';
import { greedyCoreset } from '../memory-bank/greedy-coreset.ts';
import type { SessionOptions } from '../onnx/create-session.ts';
import { type PatchScores, PatchScorer } from '../scoring/patch-scorer.ts';

/**
 * Up to this many groups, calibration is leave-one-out (one fold per image); above, the groups are shuffled into this
 * many folds, so that the cost stays at most this many coreset selections whatever the number of images.
 */
export const MAX_CALIBRATION_FOLDS = 10;

/**
 * Which groups are scored together, against a bank built without them: one fold per group up to `maxFolds` groups
 * (leave-one-out), else `maxFolds` folds of a seeded shuffle, as even as the count allows.
 */
export function calibrationFolds(groups: number, seed: number, maxFolds = MAX_CALIBRATION_FOLDS): number[][] {
  const order = Array.from({ length: groups }, (_, i) => i);
  if (groups <= maxFolds) return order.map((g) => [g]);
  const random = seededRandom(seed + 104_729);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const folds: number[][] = Array.from({ length: maxFolds }, () => []);
  order.forEach((g, i) => folds[i % maxFolds].push(g));
  return folds.map((f) => f.sort((a, b) => a - b));
}

/** Patch features of the training views, each view (an image or an augmented copy of one) tagged with its group. */
export interface GroupedFeatures {
  /** [views * patchesPerImage, dims] */
  features: Float32Array;
  /** [views * patchesPerImage, projectionDims]: the rows the coreset is chosen on. */
  projected: Float32Array;
  projectionDims: number;
  dims: number;
  patchesPerImage: number;
  /** Group of each view: an image and its augmented copies share one, so that a fold leaves all of them out. */
  groupOfView: number[];
  /** Views whose scores calibrate (the others only fill banks). */
  scoredViews: number[];
}

export interface CrossCalibrationOptions {
  coresetRatio: number;
  neighbours: number;
  seed: number;
  maxFolds?: number;
  session?: SessionOptions;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Scores every scored view against a memory bank built, exactly as the model's own, from the views of the other
 * folds: the coreset of their patches at the same ratio. Every image can then stay in the model's bank while its
 * calibration score is still that of an unseen normal part. Returns the scores in the order of `scoredViews`.
 */
export async function crossImageScores(
  set: GroupedFeatures,
  options: CrossCalibrationOptions,
): Promise<{ view: number; scores: PatchScores }[]> {
  const { dims, patchesPerImage: perImage, projectionDims } = set;
  const groups = new Set(set.groupOfView).size;
  if (groups < 2) throw new RangeError('cross-image calibration needs at least two groups of views');
  const folds = calibrationFolds(groups, options.seed, options.maxFolds);
  const results: { view: number; scores: PatchScores }[] = [];
  for (const [f, fold] of folds.entries()) {
    const left = new Set(fold);
    const bankViews = set.groupOfView.flatMap((g, v) => (left.has(g) ? [] : [v]));
    const scored = set.scoredViews.filter((v) => left.has(set.groupOfView[v]));
    if (scored.length === 0) continue;
    const rows = bankViews.length * perImage;
    const projected = new Float32Array(rows * projectionDims);
    bankViews.forEach((v, i) =>
      projected.set(
        set.projected.subarray(v * perImage * projectionDims, (v + 1) * perImage * projectionDims),
        i * perImage * projectionDims,
      ),
    );
    const size = Math.max(1, Math.min(rows, Math.round(rows * options.coresetRatio)));
    const selected = await greedyCoreset(projected, rows, projectionDims, { size, seed: options.seed });
    const bank = new Float32Array(size * dims);
    selected.forEach((row, i) => {
      const view = bankViews[Math.floor(row / perImage)];
      const source = view * perImage + (row % perImage);
      bank.set(set.features.subarray(source * dims, (source + 1) * dims), i * dims);
    });
    const scorer = await PatchScorer.create(
      { data: bank, rows: size, dims },
      perImage,
      options.neighbours,
      options.session,
    );
    try {
      const queries = new Float32Array(scored.length * perImage * dims);
      scored.forEach((v, i) =>
        queries.set(set.features.subarray(v * perImage * dims, (v + 1) * perImage * dims), i * perImage * dims),
      );
      const scores = await scorer.score(queries, scored.length);
      scored.forEach((v, i) => results.push({ view: v, scores: scores[i] }));
    } finally {
      await scorer.release();
    }
    options.onProgress?.(f + 1, folds.length);
  }
  const order = new Map(set.scoredViews.map((v, i) => [v, i]));
  return results.sort((a, b) => order.get(a.view)! - order.get(b.view)!);
}

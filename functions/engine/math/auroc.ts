/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative, ties counting
 * half. Sorting positives and negatives apart and merging is O(n log n) and exact, and handles tens of millions of
 * pixel scores without building pairs.
 */
export function auroc(positives: Float32Array | number[], negatives: Float32Array | number[]): number {
  if (positives.length === 0 || negatives.length === 0) return Number.NaN;
  const pos = Float32Array.from(positives).sort();
  const neg = Float32Array.from(negatives).sort();
  let below = 0; // negatives strictly below the current positive
  let equal = 0; // negatives equal to it
  let wins = 0;
  let j = 0;
  for (let i = 0; i < pos.length; i++) {
    const v = pos[i];
    if (i > 0 && v === pos[i - 1]) {
      wins += below + equal / 2;
      continue;
    }
    while (j < neg.length && neg[j] < v) j++;
    below = j;
    let k = j;
    while (k < neg.length && neg[k] === v) k++;
    equal = k - j;
    wins += below + equal / 2;
  }
  return wins / (pos.length * neg.length);
}

/**
 * The threshold that maximises F1 when predicting "anomalous" for score >= threshold, over all distinct scores
 * (anomalib's F1AdaptiveThreshold). Returns the threshold and the F1 reached.
 */
export function f1OptimalThreshold(
  scores: ArrayLike<number>,
  labels: ArrayLike<boolean | number>,
): { threshold: number; f1: number } {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const positives = order.reduce((n, i) => n + (labels[i] ? 1 : 0), 0);
  let tp = 0;
  let fp = 0;
  let best = { threshold: Number.POSITIVE_INFINITY, f1: 0 };
  for (let r = 0; r < order.length; r++) {
    const i = order[r];
    if (labels[i]) tp++;
    else fp++;
    if (r + 1 < order.length && scores[order[r + 1]] === scores[i]) continue; // same score: same decision
    const f1 = (2 * tp) / (2 * tp + fp + (positives - tp));
    if (f1 > best.f1) best = { threshold: scores[i], f1 };
  }
  return best;
}

/** F1 of predicting "anomalous" for score >= threshold. */
export function f1At(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>, threshold: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const predicted = scores[i] >= threshold;
    if (predicted && labels[i]) tp++;
    else if (predicted) fp++;
    else if (labels[i]) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

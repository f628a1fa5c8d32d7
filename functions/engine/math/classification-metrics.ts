/** Accuracy, macro F1 and the confusion matrix of class predictions (indices), pure. */
export interface ClassificationMetrics {
  accuracy: number;
  macroF1: number;
  /** Per class: precision, recall, F1 and how many images are of it. */
  perClass: { precision: number; recall: number; f1: number; support: number }[];
  /** Rows: true class; columns: predicted class. */
  confusion: number[][];
}

export function classificationMetrics(
  truth: readonly number[],
  predicted: readonly number[],
  classes: number,
): ClassificationMetrics {
  if (truth.length !== predicted.length) throw new RangeError('truth and predictions differ in length');
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  truth.forEach((t, i) => {
    confusion[t][predicted[i]]++;
    if (t === predicted[i]) correct++;
  });
  const perClass = confusion.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, r) => a + r[c], 0);
    const precision = predictedAs ? tp / predictedAs : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
  // Macro F1 over the classes that occur (a class with no image would count as 0 and say nothing of the model).
  const present = perClass.filter((p) => p.support > 0);
  return {
    accuracy: truth.length ? correct / truth.length : 0,
    macroF1: present.length ? present.reduce((a, p) => a + p.f1, 0) / present.length : 0,
    perClass,
    confusion,
  };
}

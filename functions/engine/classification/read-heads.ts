import { type ClassifierHead, type ClassifierSpec, DEFAULT_SIGMOID_THRESHOLD } from './classifier-spec.ts';

/** One output of a model run for one image: its dimensions and values. */
export interface OutputTensor {
  dims: readonly number[];
  data: Float32Array;
}

/** A head's answer for one image. */
export interface HeadResult {
  /** softmax: the most probable class; sigmoid: the most probable class over the threshold, or null. */
  label: string | null;
  /** Every class at or over the threshold (sigmoid), or the one label (softmax). */
  labels: string[];
  /** The probability of `label` (sigmoid with no label: the highest probability, under the threshold). */
  confidence: number;
  /** Every class's probability. */
  scores: Record<string, number>;
  activation: ClassifierHead['activation'];
  threshold?: number;
}

export function softmax(values: Float32Array | number[]): number[] {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  const exps = Array.from(values, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** Problems of an output's shape for the heads that read it (empty when it fits): named by head, with the shapes. */
export function headShapeProblems(spec: ClassifierSpec, dims: ReadonlyMap<string, readonly number[]>): string[] {
  const problems: string[] = [];
  for (const head of spec.heads) {
    const shape = dims.get(head.output);
    if (!shape) {
      problems.push(
        `head ${head.name}: the model has no output ${head.output} (outputs: ${[...dims.keys()].join(', ')})`,
      );
      continue;
    }
    const values = shape.slice(1).reduce((a, b) => a * b, 1);
    const wanted = head.slice ? `at least ${head.slice.end}` : `${head.classes.length}`;
    const fits =
      shape.length >= 2 &&
      shape[0] === 1 &&
      (head.slice ? values >= head.slice.end : values === head.classes.length) &&
      shape.slice(1, -1).every((d) => d === 1);
    if (!fits)
      problems.push(
        `head ${head.name}: output ${head.output} has shape [${shape.join(', ')}] for one image; the spec needs [1, ${wanted}] (${head.classes.length} classes${head.slice ? ` in columns ${head.slice.start}..${head.slice.end - 1}` : ''})`,
      );
  }
  return problems;
}

/** Reads every head of one image from the model's outputs (their shapes checked when the model was loaded). */
export function readHeads(spec: ClassifierSpec, outputs: Record<string, OutputTensor>): Record<string, HeadResult> {
  const results: Record<string, HeadResult> = {};
  for (const head of spec.heads) {
    const data = outputs[head.output].data;
    const raw = head.slice ? data.subarray(head.slice.start, head.slice.end) : data.subarray(0, head.classes.length);
    results[head.name] = readHead(head, raw);
  }
  return results;
}

export function readHead(head: ClassifierHead, raw: Float32Array): HeadResult {
  const probabilities =
    head.scores === 'probabilities'
      ? Array.from(raw)
      : head.activation === 'softmax'
        ? softmax(raw)
        : Array.from(raw, sigmoid);
  const scores: Record<string, number> = {};
  let best = 0;
  head.classes.forEach((c, i) => {
    scores[c] = round(probabilities[i]);
    if (probabilities[i] > probabilities[best]) best = i;
  });
  if (head.activation === 'softmax')
    return {
      label: head.classes[best],
      labels: [head.classes[best]],
      confidence: round(probabilities[best]),
      scores,
      activation: head.activation,
    };
  const threshold = head.threshold ?? DEFAULT_SIGMOID_THRESHOLD;
  const over = head.classes
    .map((c, i) => ({ c, p: probabilities[i] }))
    .filter(({ p }) => p >= threshold)
    .sort((a, b) => b.p - a.p);
  return {
    label: over[0]?.c ?? null,
    labels: over.map((o) => o.c),
    confidence: round(probabilities[best]),
    scores,
    activation: head.activation,
    threshold,
  };
}

const round = (v: number): number => Number(v.toFixed(6));

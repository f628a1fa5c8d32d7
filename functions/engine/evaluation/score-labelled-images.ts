import type { ModelArtifact } from '../artifact/model-artifact.ts';
import type { LabelledImage } from '../dataset/mvtec-category.ts';
import { STAGES, type StageTimings } from '../detection/detection-result.ts';
import type { Detector } from '../detection/detector.ts';
import { decodeMask, decodeMaskForInput } from '../image/decode-mask.ts';
import { normaliseMap } from '../calibration/score-scale.ts';
import { CALIBRATED_THRESHOLD } from '../detection/detection-settings.ts';
import { findRegions, growMask } from '../detection/regions.ts';
import { auroc, f1At } from '../math/auroc.ts';
import { AUPRO_FPR_LIMIT, RegionOverlapCurve } from '../math/aupro.ts';

/** What a model scores on labelled images, at its calibrated thresholds (what a user gets without tuning). */
export interface LabelledImageScores {
  counts: { test: number; good: number; anomalous: number; withMask: number; skipped: number };
  /** NaN when the set lacks normal or anomalous images (AUROC needs both). */
  imageAuroc: number;
  /** Pixel AUROC over every pixel of the images at their own size (what a user sees). */
  pixelAuroc: number;
  /** Pixel AUROC at the model input (224 x 224, cropped when the model crops), the protocol anomalib reports. */
  pixelAurocInput: number;
  f1: number;
  precision: number;
  recall: number;
  /**
   * Mean over the masked defective images of |predicted ∩ truth| / |predicted ∪ truth|, predicted = the regions'
   * mask at the calibrated pixel threshold (grown to the model's grow level, as detection draws it).
   */
  maskIou: number;
  /** Mean over the same images of the mask's F1 (Dice: 2 |predicted ∩ truth| / (|predicted| + |truth|)). */
  maskF1: number;
  /** Area under the per-region overlap curve up to 30 % FPR, normalised (MVTec AD / anomalib's AUPRO). */
  aupro: number;
  /** Boxes returned on good images at the calibrated thresholds (each one a false box). */
  falseBoxes: number;
  falseAlarms: { flagged: number; good: number; rate: number };
  recallByDefect: Record<string, number>;
  /** Image AUROC of each defect type's images against all the good ones: which kinds of defect the model separates. */
  imageAurocByDefect: Record<string, number>;
  detectMsPerImage: StageTimings & { total: number };
}

/** Pixel scores split by label, grown in chunks so that millions of values never sit in a plain array. */
class ScoreBag {
  private chunks: Float32Array[] = [];
  private length = 0;
  add(values: Float32Array): void {
    this.chunks.push(values);
    this.length += values.length;
  }
  toArray(): Float32Array {
    const out = new Float32Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

function splitByMask(map: Float32Array, mask: Uint8Array, positives: ScoreBag, negatives: ScoreBag): void {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let p = 0; p < mask.length; p++) (mask[p] ? pos : neg).push(map[p]);
  positives.add(Float32Array.from(pos));
  negatives.add(Float32Array.from(neg));
}

/** Intersection over union and F1 (Dice) of a predicted mask and the truth; 1 when both are empty. */
export function maskOverlap(predicted: Uint8Array, truth: Uint8Array): { iou: number; f1: number } {
  let intersection = 0;
  let union = 0;
  let sizes = 0;
  for (let p = 0; p < truth.length; p++) {
    if (predicted[p] && truth[p]) intersection++;
    if (predicted[p] || truth[p]) union++;
    sizes += (predicted[p] ? 1 : 0) + (truth[p] ? 1 : 0);
  }
  return union === 0 ? { iou: 1, f1: 1 } : { iou: intersection / union, f1: (2 * intersection) / sizes };
}

/** The regions' mask that detection draws at the calibrated threshold, from a raw map at the image's map size. */
export function predictedMask(artifact: ModelArtifact, raw: Float32Array, width: number, height: number): Uint8Array {
  const { pixel } = artifact.manifest.thresholds;
  const map = normaliseMap(raw.slice(), pixel);
  return findRegions(
    map,
    width,
    height,
    width,
    height,
    CALIBRATED_THRESHOLD,
    artifact.manifest.settings.regions,
    growMask(raw, width, height, pixel, CALIBRATED_THRESHOLD),
  ).mask;
}

/**
 * Scores every labelled image with the detector, in batches (only a batch of images in memory at a time): image AUROC
 * over all of them, pixel AUROC over the good ones and the defective ones that have masks, F1, precision and recall
 * at the calibrated image threshold, and the mask IoU at the calibrated pixel threshold.
 */
export async function scoreLabelledImages(
  detector: Detector,
  artifact: ModelArtifact,
  test: LabelledImage[],
  onProgress?: (done: number, total: number) => void,
): Promise<LabelledImageScores> {
  const scores: number[] = [];
  const labels: number[] = [];
  const defects: string[] = [];
  const ious: number[] = [];
  const maskF1s: number[] = [];
  const overlap = new RegionOverlapCurve();
  let falseBoxes = 0;
  const positives = new ScoreBag();
  const negatives = new ScoreBag();
  const inputPositives = new ScoreBag();
  const inputNegatives = new ScoreBag();
  const sums = Object.fromEntries(STAGES.map((s) => [s, 0])) as unknown as StageTimings;
  let detected = 0;
  let skipped = 0;
  let withMask = 0;
  const batch = 8;
  for (let start = 0; start < test.length; start += batch) {
    const chunk = test.slice(start, start + batch);
    const items = await detector.detectBatch(
      await Promise.all(chunk.map(async (c) => ({ name: c.image.name, bytes: await c.image.read() }))),
      { rawMap: true },
    );
    for (let i = 0; i < chunk.length; i++) {
      const item = items[i];
      if ('error' in item) {
        skipped++;
        continue;
      }
      const { result, rawMap } = item.detection;
      const truth = chunk[i];
      detected++;
      for (const s of STAGES) sums[s] += result.timings_ms[s];
      scores.push(result.raw_score);
      labels.push(truth.anomalous ? 1 : 0);
      defects.push(truth.defect);
      if (!rawMap) continue;
      if (!truth.anomalous) {
        negatives.add(rawMap.data);
        inputNegatives.add(rawMap.input);
        overlap.add(rawMap.data, new Uint8Array(rawMap.data.length), rawMap.width, rawMap.height);
        falseBoxes += result.bounding_boxes.length;
      } else if (truth.mask) {
        withMask++;
        const maskBytes = await truth.mask.read();
        const full = await decodeMask(maskBytes, rawMap.width, rawMap.height);
        const { iou, f1 } = maskOverlap(predictedMask(artifact, rawMap.data, rawMap.width, rawMap.height), full);
        ious.push(iou);
        maskF1s.push(f1);
        overlap.add(rawMap.data, full, rawMap.width, rawMap.height);
        splitByMask(rawMap.data, full, positives, negatives);
        splitByMask(
          rawMap.input,
          await decodeMaskForInput(maskBytes, artifact.manifest.preprocessing),
          inputPositives,
          inputNegatives,
        );
      }
    }
    onProgress?.(Math.min(start + batch, test.length), test.length);
  }
  const threshold = artifact.manifest.thresholds.image.threshold;
  const pos = scores.filter((_, i) => labels[i]);
  const neg = scores.filter((_, i) => !labels[i]);
  const predicted = scores.map((s) => s >= threshold);
  const tp = predicted.filter((p, i) => p && labels[i]).length;
  const fp = predicted.filter((p, i) => p && !labels[i]).length;
  const recallByDefect: Record<string, number> = {};
  const imageAurocByDefect: Record<string, number> = {};
  for (const d of new Set(defects.filter((_, i) => labels[i]))) {
    const idx = defects.map((x, i) => (x === d && labels[i] ? i : -1)).filter((i) => i >= 0);
    recallByDefect[d] = round(idx.filter((i) => predicted[i]).length / idx.length);
    imageAurocByDefect[d] = round(
      auroc(
        idx.map((i) => scores[i]),
        neg,
      ),
    );
  }
  const detectMsPerImage = Object.fromEntries(
    STAGES.map((s) => [s, round(sums[s] / Math.max(1, detected), 2)]),
  ) as unknown as StageTimings & { total: number };
  detectMsPerImage.total = round(
    STAGES.reduce((a, s) => a + detectMsPerImage[s], 0),
    2,
  );
  return {
    counts: { test: detected, good: neg.length, anomalous: pos.length, withMask, skipped },
    imageAuroc: round(auroc(pos, neg)),
    pixelAuroc: round(auroc(positives.toArray(), negatives.toArray())),
    pixelAurocInput: round(auroc(inputPositives.toArray(), inputNegatives.toArray())),
    f1: round(f1At(scores, labels, threshold)),
    precision: round(tp / Math.max(1, tp + fp)),
    recall: round(tp / Math.max(1, pos.length)),
    maskIou: ious.length ? round(ious.reduce((a, v) => a + v, 0) / ious.length) : Number.NaN,
    maskF1: maskF1s.length ? round(maskF1s.reduce((a, v) => a + v, 0) / maskF1s.length) : Number.NaN,
    aupro: round(overlap.area(AUPRO_FPR_LIMIT)),
    falseBoxes,
    falseAlarms: { flagged: fp, good: neg.length, rate: round(fp / Math.max(1, neg.length)) },
    recallByDefect,
    imageAurocByDefect,
    detectMsPerImage,
  };
}

export const round = (v: number, digits = 4): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

import type { Corners } from './letterbox.ts';

/** A scored box of one class, before suppression. */
export interface Candidate extends Corners {
  score: number;
  classIndex: number;
}

/** Intersection over union; boxes without area overlap nothing. */
export function iou(a: Corners, b: Corners): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Class-aware greedy non-maximum suppression: highest score first, a box is dropped when it overlaps a kept box of
 * its own class by more than `iouThreshold`; boxes of different classes never suppress each other. Returns at most
 * `maxDetections` boxes, highest score first (ties keep input order).
 */
export function nonMaxSuppression<T extends Candidate>(
  candidates: readonly T[],
  iouThreshold: number,
  maxDetections: number,
): T[] {
  const order = candidates.map((_, i) => i).sort((a, b) => candidates[b].score - candidates[a].score || a - b);
  const keptByClass = new Map<number, T[]>();
  const kept: T[] = [];
  for (const i of order) {
    if (kept.length >= maxDetections) break;
    const box = candidates[i];
    const sameClass = keptByClass.get(box.classIndex);
    if (sameClass?.some((k) => iou(k, box) > iouThreshold)) continue;
    if (sameClass) sameClass.push(box);
    else keptByClass.set(box.classIndex, [box]);
    kept.push(box);
  }
  return kept;
}

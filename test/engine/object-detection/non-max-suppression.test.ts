import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  iou,
  nonMaxSuppression,
  type Candidate,
} from '../../../functions/engine/object-detection/non-max-suppression.ts';

/**
 * The definition, brute force: in score order (ties by index), a box is kept when no box kept before it, of its own
 * class, overlaps it by more than the threshold; then the first maxDetections kept.
 */
function referenceNms(boxes: Candidate[], threshold: number, max: number): Candidate[] {
  const ranked = boxes.map((b, i) => ({ b, i })).sort((p, q) => q.b.score - p.b.score || p.i - q.i);
  const kept: Candidate[] = [];
  for (const { b } of ranked) {
    let suppressed = false;
    for (const k of kept) if (k.classIndex === b.classIndex && iou(k, b) > threshold) suppressed = true;
    if (!suppressed) kept.push(b);
  }
  return kept.slice(0, max);
}

/** IoU straight from the pixel sets of integer boxes: a different road to the same number. */
function pixelIou(a: Candidate, b: Candidate): number {
  const inside = (r: Candidate, x: number, y: number) => x >= r.x1 && x < r.x2 && y >= r.y1 && y < r.y2;
  let inter = 0;
  let union = 0;
  for (let y = 0; y < 40; y++)
    for (let x = 0; x < 40; x++) {
      const ia = inside(a, x, y);
      const ib = inside(b, x, y);
      if (ia && ib) inter++;
      if (ia || ib) union++;
    }
  return union === 0 ? 0 : inter / union;
}

const box = (coord: fc.Arbitrary<number>) =>
  fc
    .record({
      x: coord,
      y: coord,
      w: coord,
      h: coord,
      score: fc.double({ min: 0, max: 1, noNaN: true }),
      classIndex: fc.integer({ min: 0, max: 2 }),
    })
    .map(({ x, y, w, h, score, classIndex }) => ({ x1: x, y1: y, x2: x + w, y2: y + h, score, classIndex }));

describe('nonMaxSuppression', () => {
  it('equals the brute-force definition on random boxes', () => {
    fc.assert(
      fc.property(
        fc.array(box(fc.double({ min: 0, max: 50, noNaN: true })), { maxLength: 60 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 70 }),
        (boxes, threshold, max) => {
          expect(nonMaxSuppression(boxes, threshold, max)).toEqual(referenceNms(boxes, threshold, max));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps no two boxes of a class above the threshold, and every dropped box has a better kept one over it', () => {
    fc.assert(
      fc.property(
        fc.array(box(fc.integer({ min: 0, max: 20 })), { maxLength: 40 }),
        fc.double({ min: 0.1, max: 0.9, noNaN: true }),
        (boxes, threshold) => {
          const kept = nonMaxSuppression(boxes, threshold, 1000);
          for (const a of kept)
            for (const b of kept)
              if (a !== b && a.classIndex === b.classIndex)
                expect(pixelIou(a, b)).toBeLessThanOrEqual(threshold + 1e-12);
          for (const d of boxes.filter((b) => !kept.includes(b)))
            expect(
              kept.some(
                (k) => k.classIndex === d.classIndex && k.score >= d.score && pixelIou(k, d) > threshold - 1e-12,
              ),
            ).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('computes IoU as the pixel sets do', () => {
    fc.assert(
      fc.property(box(fc.integer({ min: 0, max: 19 })), box(fc.integer({ min: 0, max: 19 })), (a, b) => {
        expect(iou(a, b)).toBeCloseTo(pixelIou(a, b), 12);
      }),
      { numRuns: 300 },
    );
  });

  it('never lets boxes of different classes suppress each other, and caps at maxDetections', () => {
    const same = { x1: 0, y1: 0, x2: 10, y2: 10 };
    const boxes = [
      { ...same, score: 0.9, classIndex: 0 },
      { ...same, score: 0.8, classIndex: 1 },
      { ...same, score: 0.7, classIndex: 0 },
    ];
    expect(nonMaxSuppression(boxes, 0.5, 10)).toEqual([boxes[0], boxes[1]]);
    expect(nonMaxSuppression(boxes, 0.5, 1)).toEqual([boxes[0]]);
  });
});

import { describe, expect, it } from 'vitest';
import { NAB_PROFILES, nabScore } from '../../../functions/engine/series/nab-sweep.ts';

const standard = NAB_PROFILES[0];
const n = 1000;
const timestamps = Array.from({ length: n }, (_, i) => i * 60_000);
const windows: [number, number][] = [
  [timestamps[400], timestamps[449]],
  [timestamps[800], timestamps[849]],
];

function file(alarms: number[]) {
  const scores = new Float64Array(n);
  for (const i of alarms) scores[i] = 1;
  return { timestamps, scores, windows };
}

describe('NAB sweep (nab/sweeper.py re-done)', () => {
  it('a detector that alarms at the start of every window scores 100, one that never alarms 0', () => {
    expect(nabScore([file([400, 800])], standard).normalised).toBeCloseTo(100, 9);
    expect(nabScore([file([])], standard).normalised).toBeCloseTo(0, 9);
  });

  it('a detection at the right edge of a window is worth nothing, halfway about 0.86', () => {
    // halfway: position -(449 - 425 + 1)/50 = -0.5 -> (2 sigmoid(2.5) - 1) / (2 sigmoid(5) - 1)
    const half = (2 / (1 + Math.exp(-2.5)) - 1) / (2 / (1 + Math.exp(-5)) - 1);
    const raw = nabScore([file([425, 800])], standard).raw;
    expect(raw).toBeCloseTo(half + 1, 9);
  });

  it('false positives cost the profile weight and the threshold is chosen for the corpus', () => {
    // alarms far from windows before the first window: each costs 0.11 in standard and 0.22 in low-FP
    const f = file([400, 800, 200, 300]);
    expect(nabScore([f], standard).raw).toBeCloseTo(2 - 2 * 0.11, 9);
    expect(nabScore([f], NAB_PROFILES[1]).raw).toBeCloseTo(2 - 2 * 0.22, 9);
  });

  it('points in the probationary 15 % are ignored', () => {
    expect(nabScore([file([400, 800, 10, 100])], standard).normalised).toBeCloseTo(100, 9);
  });
});

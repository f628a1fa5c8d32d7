import { describe, expect, it } from 'vitest';
import { judgeModelQuality } from '../../../functions/engine/training/model-quality.ts';

describe('model quality verdict', () => {
  it('one image calibrated on its own views is uncalibrated, whatever the count of views', () => {
    const q = judgeModelQuality({ trainImages: 1, calibrationImages: 7, calibration: 'augmented-views' });
    expect(q.verdict).toBe('uncalibrated');
    expect(q.reason).toContain('augmented views');
  });

  it('a threshold from fewer than 3 unseen normal scores is uncalibrated (the old hold-out of 8 images gave 1)', () => {
    expect(judgeModelQuality({ trainImages: 7, calibrationImages: 1, calibration: 'held-out' }).verdict).toBe(
      'uncalibrated',
    );
    expect(judgeModelQuality({ trainImages: 2, calibrationImages: 2, calibration: 'cross-image' }).verdict).toBe(
      'uncalibrated',
    );
  });

  it('3 or 4 images are few_images, 5 and more ok, and the reason gives the counts', () => {
    const few = judgeModelQuality({ trainImages: 4, calibrationImages: 4, calibration: 'cross-image' });
    expect(few.verdict).toBe('few_images');
    expect(few.reason).toContain('4 images');
    const ok = judgeModelQuality({ trainImages: 5, calibrationImages: 5, calibration: 'cross-image' });
    expect(ok).toMatchObject({ verdict: 'ok', trainImages: 5, calibrationImages: 5 });
  });
});

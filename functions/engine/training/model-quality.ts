import { z } from 'zod';

export const MODEL_QUALITY_VERDICTS = ['ok', 'few_images', 'uncalibrated'] as const;
export type ModelQualityVerdict = (typeof MODEL_QUALITY_VERDICTS)[number];

/**
 * How the calibration scores were obtained: images given apart, each training image against a bank of the others
 * (cross-image folds), augmented views of a single image, or (models from before) training images held out.
 */
export const CALIBRATION_SOURCES = ['given-images', 'cross-image', 'augmented-views', 'held-out'] as const;
export type CalibrationSource = (typeof CALIBRATION_SOURCES)[number];

export const modelQualitySchema = z.object({
  verdict: z.enum(MODEL_QUALITY_VERDICTS),
  reason: z.string(),
  trainImages: z.number().int().nonnegative(),
  calibrationImages: z.number().int().nonnegative(),
  calibration: z.enum(CALIBRATION_SOURCES),
});
export type ModelQuality = z.infer<typeof modelQualitySchema>;

/** Fewer training images than this and the model is `few_images` (see the README's table by number of images). */
export const FEW_IMAGES_BELOW = 5;
/** Fewer distinct normal images than this behind the threshold and it is `uncalibrated`: a spread needs a sample. */
export const MIN_CALIBRATION_IMAGES = 3;

/** The verdict a user reads beside a model and in every detection answer, with the reason in words. */
export function judgeModelQuality(facts: Omit<ModelQuality, 'verdict' | 'reason'>): ModelQuality {
  const { trainImages, calibrationImages, calibration } = facts;
  const images = (n: number) => `${n} image${n === 1 ? '' : 's'}`;
  if (calibration === 'augmented-views')
    return {
      ...facts,
      verdict: 'uncalibrated',
      reason: `trained on ${images(trainImages)}: the threshold comes from augmented views of it, not from other parts; expect false alarms until more normal images are added`,
    };
  if (calibrationImages < MIN_CALIBRATION_IMAGES)
    return {
      ...facts,
      verdict: 'uncalibrated',
      reason: `only ${images(calibrationImages)} calibrated the threshold (at least ${MIN_CALIBRATION_IMAGES} are needed for a dependable one)`,
    };
  if (trainImages < FEW_IMAGES_BELOW)
    return {
      ...facts,
      verdict: 'few_images',
      reason: `trained on ${images(trainImages)}; with fewer than ${FEW_IMAGES_BELOW} normal images, normal variation the images do not show reads as anomalous`,
    };
  return {
    ...facts,
    verdict: 'ok',
    reason: `trained on ${images(trainImages)}, threshold calibrated on ${images(calibrationImages)} (${calibration})`,
  };
}

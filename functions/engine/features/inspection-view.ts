import { z } from 'zod';
import { MAX_RESOLUTION } from './tiling.ts';
import { INPUT_NORMALISATIONS, NORMALISATION_CHOICES } from './input-statistics.ts';

/** Pixels per feature cell of the default backbone's finest layer: resolutions are multiples of it. */
export const RESOLUTION_STEP = 8;
/** The default backbone's input size: the smallest resolution, and the one-view default. */
export const MIN_RESOLUTION = 224;

/**
 * A project's choice of what the model inspects (features/feature-extractor.ts's InspectionView), validated where it
 * enters: the side the image is resized to, whether a coarse whole-image view joins the tiles, and the input's
 * normalisation.
 */
export const inspectionSettingsSchema = z
  .object({
    resolution: z
      .number()
      .int()
      .min(MIN_RESOLUTION)
      .max(MAX_RESOLUTION)
      .multipleOf(RESOLUTION_STEP)
      .meta({
        description: `Side in pixels the image is resized to before inspection: ${MIN_RESOLUTION} (the backbone's input, one view) or more, a multiple of ${RESOLUTION_STEP}, cut into overlapping ${MIN_RESOLUTION} px tiles whose features are stitched into one map (small defects on large images)`,
      }),
    multiScale: z
      .boolean()
      .default(false)
      .meta({ description: 'With tiles: also a coarse whole-image view in every patch (layout and large defects)' }),
    normalise: z
      .enum(INPUT_NORMALISATIONS)
      .optional()
      .meta({
        description: `Pixel statistics the input is normalised with: ${NORMALISATION_CHOICES}. Absent: auto`,
      }),
  })
  .strict()
  .meta({ id: 'Inspection', description: 'What the next training inspects; detection follows the model it made' });

export type InspectionSettings = z.infer<typeof inspectionSettingsSchema>;

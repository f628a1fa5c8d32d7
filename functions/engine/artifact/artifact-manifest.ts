import { z } from 'zod';
import { AGGREGATIONS } from '../backbone/feature-model.ts';
import { APPLIED_NORMALISATIONS } from '../features/input-statistics.ts';
import { detectionSettingsSchema } from '../detection/detection-settings.ts';
import { judgeModelQuality, type ModelQuality, modelQualitySchema } from '../training/model-quality.ts';

/** A ScoreScale (calibration/score-scale.ts); `normal` is absent in models trained before it existed. */
const scaleSchema = z.object({
  threshold: z.number(),
  min: z.number(),
  max: z.number(),
  normal: z.number().optional(),
});

const histogramSchema = z.array(z.number().int().nonnegative());

const preprocessingSchema = z.object({
  /** Side of the inspected image: the backbone's input size, or more (cut into tiles of it). */
  size: z.number().int().positive(),
  resize: z.enum(['direct', 'crop']),
  resizeTo: z.number().int().positive(),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number(), z.number(), z.number()]),
  /**
   * Where mean and std came from: absent or 'backbone', its ImageNet statistics; 'images', the training images';
   * 'each-image': every image is normalised by its own instead (mean and std record the backbone's, unused).
   */
  normalise: z.enum(APPLIED_NORMALISATIONS).optional(),
});

const evaluationMetricsSchema = z.object({
  imageAuroc: z.number().optional(),
  pixelAuroc: z.number().optional(),
  f1: z.number().optional(),
  images: z.number().int().optional(),
  source: z.string().optional(),
});

/** The file of the memory bank's cell table (search/cell-probe-search.ts), int32 little-endian, centres x width. */
export const CELL_TABLE_FILE = 'bank-cells.i32';

/** The cell table saved with the bank, so that a load need not build it; absent in models saved before it was kept. */
const cellTableSchema = z.object({
  file: z.literal(CELL_TABLE_FILE),
  centres: z.number().int().positive(),
  width: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const artifactManifestSchema = z.object({
  format: z.literal('faultline-patchcore'),
  formatVersion: z.number().int().positive(),
  engineVersion: z.string(),
  createdAt: z.iso.datetime(),
  /** A label the service gives a model (e.g. "v3"); when absent the version is derived from the bank's digest. */
  version: z.string().min(1).max(100).optional(),
  backbone: z.object({
    id: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    layers: z.array(z.string()).min(1),
    /** Side of the neighbourhood patch features are averaged over; absent: 3 (models from before the option). */
    aggregation: z.literal(AGGREGATIONS).optional(),
    /** Patches per side of an image's feature grid (more than the backbone's own when the image is tiled). */
    grid: z.number().int().positive(),
    /** Values per patch (twice the layers' channels with multiScale). */
    channels: z.number().int().positive(),
    /** A coarse whole-image view's features appended to each tiled patch's (features/feature-extractor.ts). */
    multiScale: z.boolean().optional(),
  }),
  preprocessing: preprocessingSchema,
  memoryBank: z.object({
    rows: z.number().int().positive(),
    dims: z.number().int().positive(),
    coresetRatio: z.number().gt(0).lte(1),
    projectionDims: z.number().int().positive(),
    seed: z.number().int(),
    file: z.literal('bank.f32'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    sourcesFile: z.literal('bank-sources.u32'),
    sourcesSha256: z.string().regex(/^[0-9a-f]{64}$/),
    cells: cellTableSchema.optional(),
  }),
  scoring: z.object({ neighbours: z.number().int().positive(), blurSigma: z.number().min(0) }),
  thresholds: z.object({
    method: z.enum(['normal-sigma', 'normal-quantile', 'f1-optimal']),
    image: scaleSchema,
    /**
     * With `grow`: the raw floor regions grow down to from the threshold (regions.ts), from normal pixels; with
     * `growFraction`, each region stops at that share of its peak's height above the floor (absent: at the floor).
     */
    pixel: scaleSchema.extend({ grow: z.number().optional(), growFraction: z.number().min(0).lt(1).optional() }),
    calibrationImages: z.number().int().nonnegative(),
    /**
     * Where the calibration images' normalised image scores fall: counts in equal bins over 0..1 (score-scale.ts's
     * scoreHistogram), normal images and labelled defective ones; absent in models trained before it existed.
     */
    histogram: z.object({ normals: histogramSchema, defects: histogramSchema }).optional(),
    /**
     * Raw image scores of the calibration normals, kept so that the threshold can be recalibrated later (with
     * confirmed defects) without the images; absent in models trained before it was kept.
     */
    normalScores: z.array(z.number()).optional(),
  }),
  training: z.object({
    images: z.number().int().positive(),
    /** Training image names (relative to the training folder) and sizes, for the evidence of each detection. */
    imageNames: z.array(z.string()),
    imageSizes: z.array(z.tuple([z.number().int(), z.number().int()])),
    heldOut: z.array(z.string()),
    /** Augmented views added per training image (names as in training/augment.ts); absent or empty: none. */
    augmentation: z.array(z.string()).optional(),
    /** Images added to the bank after training (reviewed false alarms, training/extend-bank.ts), oldest first. */
    extensions: z
      .array(
        z.object({ images: z.number().int().positive(), rows: z.number().int().nonnegative(), date: z.iso.datetime() }),
      )
      .optional(),
    /** Absent in models from before the verdict; `modelQuality` derives it for them. */
    quality: modelQualitySchema.optional(),
    durationMs: z.number().nonnegative(),
    date: z.iso.datetime(),
  }),
  metrics: evaluationMetricsSchema.optional(),
  settings: detectionSettingsSchema,
});

export type ArtifactManifest = z.infer<typeof artifactManifestSchema>;
export type Preprocessing = z.infer<typeof preprocessingSchema>;

/** The model's quality verdict: as trained, or for older models judged from what their manifest records. */
export function modelQuality(manifest: ArtifactManifest): ModelQuality {
  return (
    manifest.training.quality ??
    judgeModelQuality({
      trainImages: manifest.training.images,
      calibrationImages: manifest.thresholds.calibrationImages,
      calibration: manifest.training.heldOut.length > 0 ? 'held-out' : 'given-images',
    })
  );
}

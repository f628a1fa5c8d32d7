import type { Preprocessing } from '../artifact/artifact-manifest.ts';
import type { ImageSource } from '../dataset/image-source.ts';
import { DEFAULT_IMAGE_LIMITS, decodeImage, type ImageLimits } from '../image/decode-image.ts';
import { MIN_SPREAD_LEVELS } from '../image/normalise.ts';

/**
 * How a model normalises its input pixels before the backbone: with the backbone's (ImageNet) statistics, with the
 * normal training images' own, `each-image`: every image, in training and detection, by its own mean and spread
 * (image/normalise.ts), for lighting that drifts from photo to photo; or `auto`: the images' own where their contrast
 * is far below what the backbone was trained on (LOW_CONTRAST_RATIO), else each image's own where the normal photos'
 * brightness drifts (LIGHTING_DRIFT_RATIO), else the backbone's. A model records the one it used.
 */
export const INPUT_NORMALISATIONS = ['backbone', 'images', 'auto', 'each-image'] as const;
export type InputNormalisation = (typeof INPUT_NORMALISATIONS)[number];
export const APPLIED_NORMALISATIONS = ['backbone', 'images', 'each-image'] as const;
export type AppliedNormalisation = (typeof APPLIED_NORMALISATIONS)[number];

/** What each choice means, for the CLI's help and the API's schema. */
export const NORMALISATION_CHOICES =
  "backbone (ImageNet's mean and sd), images (the normal training images' own), auto (their own when their contrast is under half ImageNet's, else each image's own when the photos' brightness drifts between them), each-image (every image by its own mean and sd, in training and detection: lighting that drifts between photos)";

/** The normalisation a model applied: models saved before the field was kept used the backbone's statistics. */
export const appliedNormalisation = (p: { normalise?: AppliedNormalisation }): AppliedNormalisation =>
  p.normalise ?? 'backbone';

/**
 * `auto` uses the images' statistics when their mean standard deviation is below this share of the backbone's.
 * Measured (README, "Better features"): tire (sd 0.05, 0.24 of ImageNet's) gained with its own statistics, cookie
 * (0.89) and magnetic_tile (0.85) did not; the rule sits between.
 */
export const LOW_CONTRAST_RATIO = 0.5;

/**
 * `auto` normalises each image by its own statistics when the normal photos' brightness drifts by at least this share
 * of their own spread (ImageSetStatistics.lightingDrift). Measured on the 32 images training reads (README, "Each
 * image's own light"): magnetic_tile's tiles 1.56 (mean brightness from 51 to 222 of 255), which gained image and
 * pixel AUROC with it; cookie 0.14 and tire 0.03, lit alike (cookie's masks lost with it). The rule sits far from both.
 */
export const LIGHTING_DRIFT_RATIO = 0.5;

/** Per-channel mean and standard deviation of pixel values in [0, 1]. */
export interface InputStatistics {
  mean: [number, number, number];
  std: [number, number, number];
}

/** The images' statistics, and how much their brightness differs from photo to photo. */
export interface ImageSetStatistics extends InputStatistics {
  /**
   * Standard deviation of the images' mean brightness (all channels) over the mean of their own spreads: about 0
   * when every photo is lit alike, 1 when photos differ in brightness as much as their pixels do within one.
   */
  lightingDrift: number;
}

/** The least standard deviation, in [0, 1] units: one grey level (a single-colour product's channel). */
const MIN_STD = MIN_SPREAD_LEVELS / 255;

/**
 * Images the statistics are measured on, spread evenly over the training set: every image is read once more for them
 * (from S3 in the service), and a few dozen pin a mean and a spread down well.
 */
export const STATISTICS_IMAGES = 32;

function evenlySpread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]);
}

/**
 * The normal images' own per-channel mean and standard deviation, over every pixel of the model input (after the
 * model's resize and crop). With these in place of the backbone's ImageNet statistics, a dark or low-contrast product
 * (tire: mean 0.07, sd 0.05 against ImageNet's 0.45 / 0.23) reaches the backbone with the spread it was trained on,
 * instead of in a few of the int8 activations' levels; and their lighting drift (ImageSetStatistics), which `auto`
 * reads. Measured on up to `maxImages` images spread over the set;
 * images that cannot be decoded are left out (the feature pass reports them); with none readable, undefined.
 */
export async function measureInputStatistics(
  sources: readonly ImageSource[],
  geometry: Pick<Preprocessing, 'size' | 'resize' | 'resizeTo'>,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  maxImages = STATISTICS_IMAGES,
): Promise<ImageSetStatistics | undefined> {
  const sums = [0, 0, 0];
  const imageMeans: number[] = [];
  const imageSpreads: number[] = [];
  const squares = [0, 0, 0];
  let pixels = 0;
  for (const source of evenlySpread(sources, maxImages)) {
    let rgb: Uint8Array;
    try {
      rgb = (await decodeImage(await source.read(), geometry, limits)).model;
    } catch {
      continue;
    }
    // Integer histograms per image keep the sums exact however many pixels there are.
    const histogram = new Float64Array(3 * 256);
    for (let p = 0; p < rgb.length; p += 3) {
      histogram[rgb[p]]++;
      histogram[256 + rgb[p + 1]]++;
      histogram[512 + rgb[p + 2]]++;
    }
    let imageSum = 0;
    let imageSquares = 0;
    for (let c = 0; c < 3; c++) {
      for (let v = 0; v < 256; v++) {
        const n = histogram[c * 256 + v];
        sums[c] += n * (v / 255);
        squares[c] += n * (v / 255) ** 2;
        imageSum += n * (v / 255);
        imageSquares += n * (v / 255) ** 2;
      }
    }
    const imageMean = imageSum / rgb.length;
    imageMeans.push(imageMean);
    imageSpreads.push(Math.sqrt(Math.max(0, imageSquares / rgb.length - imageMean ** 2)));
    pixels += rgb.length / 3;
  }
  if (pixels === 0) return undefined;
  const mean = sums.map((s) => s / pixels);
  const std = squares.map((q, c) => Math.max(MIN_STD, Math.sqrt(Math.max(0, q / pixels - mean[c] ** 2))));
  return {
    mean: [mean[0], mean[1], mean[2]],
    std: [std[0], std[1], std[2]],
    lightingDrift: lightingDrift(imageMeans, imageSpreads),
  };
}

/** Spread of the images' mean brightness over their mean own spread (0 for one image: nothing to drift from). */
function lightingDrift(means: readonly number[], spreads: readonly number[]): number {
  const average = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const centre = average(means);
  const between = Math.sqrt(average(means.map((m) => (m - centre) ** 2)));
  return between / Math.max(MIN_STD, average(spreads));
}

/** Whether `normalisation` reads the training images' statistics (measureInputStatistics) before choosing. */
export const needsImageStatistics = (normalisation: InputNormalisation): boolean =>
  normalisation === 'images' || normalisation === 'auto';

/**
 * The statistics `normalisation` chooses, given the images' own and the backbone's. With `each-image` the model keeps
 * the backbone's in its record, but every image replaces them by its own (ImageNormaliser).
 */
export function chooseNormalisation(
  normalisation: InputNormalisation,
  own: ImageSetStatistics | undefined,
  backbone: InputStatistics,
): { applied: AppliedNormalisation; statistics: InputStatistics } {
  if (normalisation === 'each-image') return { applied: 'each-image', statistics: backbone };
  if (!own || normalisation === 'backbone') return { applied: 'backbone', statistics: backbone };
  if (normalisation === 'images') return { applied: 'images', statistics: own };
  const spread = (s: InputStatistics) => (s.std[0] + s.std[1] + s.std[2]) / 3;
  if (spread(own) < LOW_CONTRAST_RATIO * spread(backbone)) return { applied: 'images', statistics: own };
  // Only photos of ordinary contrast: a near-flat product's own spread is mostly sensor noise, which dividing each
  // photo by it would blow up; the low-contrast rule above gives such a set one gain for all its photos instead.
  if (own.lightingDrift >= LIGHTING_DRIFT_RATIO) return { applied: 'each-image', statistics: backbone };
  return { applied: 'backbone', statistics: backbone };
}

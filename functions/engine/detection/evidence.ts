import type { ArtifactManifest } from '../artifact/artifact-manifest.ts';
import { imageToInput, inputRectToImage } from '../scoring/anomaly-map.ts';
import type { PatchScores } from '../scoring/patch-scorer.ts';

export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Why a region was flagged: the normal patch most like it. If even the closest normal patch is far away, the region
 * looks like nothing seen in training; the reviewer can open that training image at that place and compare.
 */
export interface Evidence {
  /** The patch of this image at the strongest region's peak, in this image's pixels. */
  patch: PixelRect;
  /** Its distance to the nearest normal patch (raw feature distance). */
  distance: number;
  nearest_normal: {
    /** Training image, relative to the training folder. */
    image: string;
    /** The normal patch's place in that image, in its pixels. */
    patch: PixelRect;
  };
}

/**
 * @param peak the region's peak in the image's pixels
 */
export function explainPeak(
  peak: { x: number; y: number },
  image: { width: number; height: number },
  scores: PatchScores,
  sources: Uint32Array,
  manifest: ArtifactManifest,
): Evidence | null {
  const { grid } = manifest.backbone;
  const pre = manifest.preprocessing;
  const stride = pre.size / grid;
  const onInput = imageToInput(peak.x, peak.y, image.width, image.height, pre);
  const cell = (v: number) => Math.min(grid - 1, Math.max(0, Math.floor(v / stride)));
  const gx = cell(onInput.x);
  const gy = cell(onInput.y);
  const patch = gy * grid + gx;
  const row = scores.nearest[patch];
  const source = sources[row];
  if (source === undefined) return null;
  const perImage = grid * grid;
  const trainingIndex = Math.floor(source / perImage);
  const sourcePatch = source % perImage;
  const name = manifest.training.imageNames[trainingIndex];
  const size = manifest.training.imageSizes[trainingIndex];
  if (name === undefined || size === undefined) return null;
  const rectOf = (p: number) => ({
    x: (p % grid) * stride,
    y: Math.floor(p / grid) * stride,
    width: stride,
    height: stride,
  });
  return {
    patch: inputRectToImage(rectOf(patch), image.width, image.height, pre),
    distance: Number(scores.distances[patch].toFixed(4)),
    nearest_normal: { image: name, patch: inputRectToImage(rectOf(sourcePatch), size[0], size[1], pre) },
  };
}

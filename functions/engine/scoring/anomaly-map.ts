import type { Preprocessing } from '../artifact/artifact-manifest.ts';
import { gaussianBlur } from '../math/gaussian-blur.ts';
import { resizeBilinear } from '../math/resize-bilinear.ts';

/** Size of an output map: the image's displayed size, scaled down so that its longer side is at most maxSide. */
export function mapSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * The anomaly map at the model's input resolution, as anomalib makes it: patch distances upsampled bilinearly from
 * the feature grid to the input size, then blurred (Gaussian, sigma in input pixels).
 */
export function inputAnomalyMap(patchDistances: Float32Array, grid: number, inputSize: number, sigma: number): Float32Array {
  const upsampled = resizeBilinear(patchDistances, grid, grid, inputSize, inputSize);
  return gaussianBlur(upsampled, inputSize, inputSize, sigma);
}

/**
 * Maps an input-resolution map onto the image's own geometry (width x height). With a centre crop, the input saw
 * only the middle of the resized image; the border it never saw takes the nearest edge value.
 */
export function toImageGeometry(inputMap: Float32Array, preprocessing: Preprocessing, width: number, height: number): Float32Array {
  const { size, resize, resizeTo } = preprocessing;
  if (resize === 'direct') return resizeBilinear(inputMap, size, size, width, height);
  const offset = Math.floor((resizeTo - size) / 2);
  return resizeBilinear(inputMap, size, size, width, height, undefined, { scaleX: resizeTo / width, scaleY: resizeTo / height, offsetX: offset, offsetY: offset });
}

/** Position of an image pixel (in an image of width x height) on the model input, in input pixels. */
export function imageToInput(x: number, y: number, width: number, height: number, preprocessing: Preprocessing): { x: number; y: number } {
  const { size, resize, resizeTo } = preprocessing;
  const side = resize === 'crop' ? resizeTo : size;
  const offset = resize === 'crop' ? Math.floor((resizeTo - size) / 2) : 0;
  return { x: ((x + 0.5) * side) / width - 0.5 - offset, y: ((y + 0.5) * side) / height - 0.5 - offset };
}

/** The rectangle, in pixels of an image of width x height, that a model-input rectangle covers (clipped). */
export function inputRectToImage(
  rect: { x: number; y: number; width: number; height: number },
  width: number,
  height: number,
  preprocessing: Preprocessing,
): { x: number; y: number; width: number; height: number } {
  const { size, resize, resizeTo } = preprocessing;
  const side = resize === 'crop' ? resizeTo : size;
  const offset = resize === 'crop' ? Math.floor((resizeTo - size) / 2) : 0;
  const x0 = Math.max(0, Math.floor(((rect.x + offset) * width) / side));
  const y0 = Math.max(0, Math.floor(((rect.y + offset) * height) / side));
  const x1 = Math.min(width, Math.ceil(((rect.x + rect.width + offset) * width) / side));
  const y1 = Math.min(height, Math.ceil(((rect.y + rect.height + offset) * height) / side));
  return { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) };
}

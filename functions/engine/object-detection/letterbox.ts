/**
 * Letterboxing as Ultralytics does it: scale the image to fit the model's input keeping its aspect, then pad the
 * rest evenly. The geometry is kept so boxes found on the padded input map back to the original image's pixels.
 */
export interface LetterboxGeometry {
  /** The original image's size. */
  sourceWidth: number;
  sourceHeight: number;
  /** The size the image is resized to (inside the model's input). */
  resizedWidth: number;
  resizedHeight: number;
  /** Padding before the resized image (left, top) and after it (right, bottom), in input pixels. */
  left: number;
  top: number;
  right: number;
  bottom: number;
  /** Input pixels per original pixel along each axis (they differ slightly by the rounding of the resized size). */
  scaleX: number;
  scaleY: number;
}

export function letterboxGeometry(
  sourceWidth: number,
  sourceHeight: number,
  inputWidth: number,
  inputHeight: number,
): LetterboxGeometry {
  const ratio = Math.min(inputWidth / sourceWidth, inputHeight / sourceHeight);
  const resizedWidth = Math.max(1, Math.min(inputWidth, Math.round(sourceWidth * ratio)));
  const resizedHeight = Math.max(1, Math.min(inputHeight, Math.round(sourceHeight * ratio)));
  // Ultralytics rounds (pad / 2 - 0.1) for the leading side, so an odd padding puts the extra pixel after the image.
  // Math.max also turns the -0 that Math.round(-0.1) gives into 0.
  const left = Math.max(0, Math.round((inputWidth - resizedWidth) / 2 - 0.1));
  const top = Math.max(0, Math.round((inputHeight - resizedHeight) / 2 - 0.1));
  return {
    sourceWidth,
    sourceHeight,
    resizedWidth,
    resizedHeight,
    left,
    top,
    right: inputWidth - resizedWidth - left,
    bottom: inputHeight - resizedHeight - top,
    scaleX: resizedWidth / sourceWidth,
    scaleY: resizedHeight / sourceHeight,
  };
}

/** A box by its corners. */
export interface Corners {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** A box on the letterboxed input, in the original image's pixels, clipped to the image. */
export function toSourcePixels(box: Corners, g: LetterboxGeometry): Corners {
  const clip = (v: number, max: number) => Math.min(max, Math.max(0, v));
  return {
    x1: clip((box.x1 - g.left) / g.scaleX, g.sourceWidth),
    y1: clip((box.y1 - g.top) / g.scaleY, g.sourceHeight),
    x2: clip((box.x2 - g.left) / g.scaleX, g.sourceWidth),
    y2: clip((box.y2 - g.top) / g.scaleY, g.sourceHeight),
  };
}

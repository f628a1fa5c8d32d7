import sharp, { type Metadata, type Sharp } from 'sharp';
import { InvalidImageError } from '../errors.ts';

export interface ImageLimits {
  /** Largest accepted width x height, checked from the header before decoding. */
  maxPixels: number;
  /** Smallest accepted width and height. */
  minSide: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxPixels: 50_000_000, minSide: 16 };

/** Raster formats accepted; vector and document formats (svg, pdf) are refused. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif', 'avif', 'jp2']);

export interface ImageInfo {
  /** Size after EXIF orientation is applied: the size the user sees and boxes refer to. */
  width: number;
  height: number;
  format: string;
}

export type ResizeMode = 'direct' | 'crop';

export interface ModelInputGeometry {
  /** Side of the square the backbone sees. */
  size: number;
  /** 'direct': resize to size x size; 'crop': resize to resizeTo x resizeTo, then take the centre size x size. */
  resize: ResizeMode;
  resizeTo: number;
}

/** Reads the header only; throws a typed error for anything that is not a usable raster image. */
export async function inspectImage(bytes: Uint8Array, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<ImageInfo> {
  if (bytes.byteLength === 0) throw new InvalidImageError('EMPTY_IMAGE', 'the image is empty (0 bytes)');
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw new InvalidImageError('UNSUPPORTED_IMAGE', `the data is not an image in a supported format (${[...ACCEPTED_FORMATS].join(', ')})`, { reason: (cause as Error).message }, { cause });
  }
  const format = meta.format ?? 'unknown';
  if (!ACCEPTED_FORMATS.has(format)) {
    throw new InvalidImageError('UNSUPPORTED_IMAGE', `images in ${format} format are not accepted (use ${[...ACCEPTED_FORMATS].join(', ')})`, { format });
  }
  // Only the first frame would be inspected: a defect in another frame would pass unseen, so animations are refused.
  if ((meta.pages ?? 1) > 1 && format !== 'tiff' && format !== 'heif') {
    throw new InvalidImageError('UNSUPPORTED_IMAGE', `the image is an animation of ${meta.pages} frames; send each frame as a still image`, { format, frames: meta.pages });
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  const width = rotated ? meta.height : meta.width;
  const height = rotated ? meta.width : meta.height;
  if (!width || !height) throw new InvalidImageError('CORRUPT_IMAGE', 'the image header has no size');
  if (width * height > limits.maxPixels) {
    throw new InvalidImageError('IMAGE_TOO_LARGE', `the image is ${width}x${height} pixels, more than the limit of ${limits.maxPixels} pixels`, { width, height, maxPixels: limits.maxPixels });
  }
  if (width < limits.minSide || height < limits.minSide) {
    throw new InvalidImageError('IMAGE_TOO_SMALL', `the image is ${width}x${height} pixels; each side must be at least ${limits.minSide}`, { width, height, minSide: limits.minSide });
  }
  return { width, height, format };
}

/** A sharp pipeline that applies EXIF orientation and yields 3-channel sRGB (grey expanded, alpha flattened on black). */
function rgbPipeline(bytes: Uint8Array, limits: ImageLimits): Sharp {
  // sharp throws synchronously on empty input, outside toRaw's error mapping.
  if (bytes.byteLength === 0) throw new InvalidImageError('EMPTY_IMAGE', 'the image is empty (0 bytes)');
  // failOn 'warning' turns libvips' "premature end of JPEG" and similar into errors instead of grey fill.
  return sharp(bytes, { failOn: 'warning', limitInputPixels: limits.maxPixels })
    .rotate()
    .flatten({ background: { r: 0, g: 0, b: 0 } })
    .toColourspace('srgb');
}

async function toRaw(pipeline: Sharp): Promise<{ data: Buffer; width: number; height: number }> {
  try {
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data, width: info.width, height: info.height };
  } catch (cause) {
    throw new InvalidImageError('CORRUPT_IMAGE', `the image could not be decoded: ${(cause as Error).message}`, {}, { cause });
  }
}

/** Decodes straight to the backbone's square input (sharp shrinks on load, so large JPEGs stay cheap). Returns HWC RGB bytes. */
export async function decodeForModel(bytes: Uint8Array, geometry: ModelInputGeometry, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<Buffer> {
  const side = geometry.resize === 'crop' ? geometry.resizeTo : geometry.size;
  let pipeline = rgbPipeline(bytes, limits).resize(side, side, { fit: 'fill' });
  if (geometry.resize === 'crop') {
    const offset = Math.floor((geometry.resizeTo - geometry.size) / 2);
    pipeline = pipeline.extract({ left: offset, top: offset, width: geometry.size, height: geometry.size });
  }
  return (await toRaw(pipeline)).data;
}

/** Decodes the image for display at exactly width x height (the anomaly map's size). Returns HWC RGB bytes. */
export async function decodeForDisplay(bytes: Uint8Array, width: number, height: number, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<Buffer> {
  return (await toRaw(rgbPipeline(bytes, limits).resize(width, height, { fit: 'fill' }))).data;
}

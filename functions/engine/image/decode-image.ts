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
  return (await readHeader(bytes, limits)).info;
}

async function readHeader(bytes: Uint8Array, limits: ImageLimits): Promise<{ info: ImageInfo; meta: Metadata }> {
  if (bytes.byteLength === 0) throw new InvalidImageError('EMPTY_IMAGE', 'the image is empty (0 bytes)');
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw new InvalidImageError(
      'UNSUPPORTED_IMAGE',
      `the data is not an image in a supported format (${[...ACCEPTED_FORMATS].join(', ')})`,
      { reason: (cause as Error).message },
      { cause },
    );
  }
  const format = meta.format ?? 'unknown';
  if (!ACCEPTED_FORMATS.has(format)) {
    throw new InvalidImageError(
      'UNSUPPORTED_IMAGE',
      `images in ${format} format are not accepted (use ${[...ACCEPTED_FORMATS].join(', ')})`,
      { format },
    );
  }
  // Only the first frame would be inspected: a defect in another frame would pass unseen, so animations are refused.
  if ((meta.pages ?? 1) > 1 && format !== 'tiff' && format !== 'heif') {
    throw new InvalidImageError(
      'UNSUPPORTED_IMAGE',
      `the image is an animation of ${meta.pages} frames; send each frame as a still image`,
      { format, frames: meta.pages },
    );
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  const width = rotated ? meta.height : meta.width;
  const height = rotated ? meta.width : meta.height;
  if (!width || !height) throw new InvalidImageError('CORRUPT_IMAGE', 'the image header has no size');
  if (width * height > limits.maxPixels) {
    throw new InvalidImageError(
      'IMAGE_TOO_LARGE',
      `the image is ${width}x${height} pixels, more than the limit of ${limits.maxPixels} pixels`,
      { width, height, maxPixels: limits.maxPixels },
    );
  }
  if (width < limits.minSide || height < limits.minSide) {
    throw new InvalidImageError(
      'IMAGE_TOO_SMALL',
      `the image is ${width}x${height} pixels; each side must be at least ${limits.minSide}`,
      { width, height, minSide: limits.minSide },
    );
  }
  return { info: { width, height, format }, meta };
}

/** A sharp pipeline that applies EXIF orientation and yields 3-channel sRGB (grey expanded, alpha flattened on black). */
export function rgbPipeline(bytes: Uint8Array, limits: ImageLimits): Sharp {
  // sharp throws synchronously on empty input, outside toRaw's error mapping.
  if (bytes.byteLength === 0) throw new InvalidImageError('EMPTY_IMAGE', 'the image is empty (0 bytes)');
  // failOn 'warning' turns libvips' "premature end of JPEG" and similar into errors instead of grey fill.
  return sharp(bytes, { failOn: 'warning', limitInputPixels: limits.maxPixels })
    .rotate()
    .flatten({ background: { r: 0, g: 0, b: 0 } })
    .toColourspace('srgb');
}

export async function toRaw(pipeline: Sharp): Promise<{ data: Buffer; width: number; height: number }> {
  try {
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data, width: info.width, height: info.height };
  } catch (cause) {
    throw new InvalidImageError(
      'CORRUPT_IMAGE',
      `the image could not be decoded: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}

/** Decodes straight to the backbone's square input (sharp shrinks on load, so large JPEGs stay cheap). Returns HWC RGB bytes. */
export async function decodeForModel(
  bytes: Uint8Array,
  geometry: ModelInputGeometry,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<Buffer> {
  return (await toRaw(toModelInput(rgbPipeline(bytes, limits), geometry))).data;
}

/** The model's input and, when asked, the image for display at its own size (the map is as large as the image). */
export interface DecodedForModel {
  info: ImageInfo;
  /** HWC RGB bytes at the model's input size. */
  model: Buffer;
  /** HWC RGB bytes at the image's size, when asked and one decode gave both; else decode it with decodeForDisplay. */
  display?: Buffer;
}

/**
 * Whether one decode at the image's size, resized, gives exactly the bytes decodeForModel gives (checked by
 * test/engine/image/decode-once.test.ts): a PNG or JPEG in 8-bit sRGB or grey, without alpha, embedded profile or
 * EXIF rotation (sharp applies those around its resize, not before), and no shrink-on-load (libvips reduces a JPEG
 * while decoding when it is at least twice the size it is resized to). WebP decodes differently when resized.
 */
function oneDecodeIsExact(meta: Metadata, info: ImageInfo, geometry: ModelInputGeometry): boolean {
  const side = geometry.resize === 'crop' ? geometry.resizeTo : geometry.size;
  const shrinksOnLoad = info.format === 'jpeg' && Math.max(info.width, info.height) >= 2 * side;
  return (
    (info.format === 'png' || info.format === 'jpeg') &&
    meta.depth === 'uchar' &&
    (meta.space === 'srgb' || meta.space === 'b-w') &&
    !meta.hasAlpha &&
    !meta.icc &&
    (meta.orientation ?? 1) === 1 &&
    !shrinksOnLoad
  );
}

/**
 * Reads the header (the checks of inspectImage) and decodes for the model. With `displayUpTo`, an image whose longer
 * side is at most that is wanted for display at its own size too: then it is decoded once and both are made from
 * those pixels, when that gives exactly the bytes of two decodes (oneDecodeIsExact); otherwise `display` is left out.
 */
export async function decodeImage(
  bytes: Uint8Array,
  geometry: ModelInputGeometry,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  displayUpTo?: number,
): Promise<DecodedForModel> {
  const { info, meta } = await readHeader(bytes, limits);
  const wanted = displayUpTo !== undefined && Math.max(info.width, info.height) <= displayUpTo;
  if (!wanted || !oneDecodeIsExact(meta, info, geometry))
    return { info, model: await decodeForModel(bytes, geometry, limits) };
  const display = await toRaw(rgbPipeline(bytes, limits));
  const model = await toRaw(
    toModelInput(sharp(display.data, { raw: { width: display.width, height: display.height, channels: 3 } }), geometry),
  );
  return { info, model: model.data, display: display.data };
}

/** The resize (and centre crop) to the backbone's square input. */
function toModelInput(pipeline: Sharp, geometry: ModelInputGeometry): Sharp {
  const side = geometry.resize === 'crop' ? geometry.resizeTo : geometry.size;
  let out = pipeline.resize(side, side, { fit: 'fill' });
  if (geometry.resize === 'crop') {
    const offset = Math.floor((geometry.resizeTo - geometry.size) / 2);
    out = out.extract({ left: offset, top: offset, width: geometry.size, height: geometry.size });
  }
  return out;
}

/** Decodes the image for display at exactly width x height (the anomaly map's size). Returns HWC RGB bytes. */
export async function decodeForDisplay(
  bytes: Uint8Array,
  width: number,
  height: number,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<Buffer> {
  return (await toRaw(rgbPipeline(bytes, limits).resize(width, height, { fit: 'fill' }))).data;
}

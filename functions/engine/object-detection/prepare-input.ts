import { DEFAULT_IMAGE_LIMITS, inspectImage, rgbPipeline, toRaw, type ImageLimits } from '../image/decode-image.ts';
import type { ObjectDetectorSpec } from './detector-spec.ts';
import { letterboxGeometry, type LetterboxGeometry } from './letterbox.ts';

export interface PreparedInput {
  /** NCHW float tensor data, 1 x 3 x height x width. */
  data: Float32Array;
  geometry: LetterboxGeometry;
}

/**
 * Decodes an image (EXIF orientation applied, as the boxes must refer to the image the user sees), letterboxes it
 * onto the model's input and lays it out as the spec says. Bad images throw the engine's typed image errors.
 */
export async function prepareInput(
  bytes: Uint8Array,
  spec: ObjectDetectorSpec,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<PreparedInput> {
  const { width: inputWidth, height: inputHeight, padValue, channelOrder, range } = spec.input;
  const info = await inspectImage(bytes, limits);
  const g = letterboxGeometry(info.width, info.height, inputWidth, inputHeight);
  const pad = { r: padValue, g: padValue, b: padValue };
  const { data: hwc } = await toRaw(
    rgbPipeline(bytes, limits)
      .resize(g.resizedWidth, g.resizedHeight, { fit: 'fill' })
      .extend({ left: g.left, top: g.top, right: g.right, bottom: g.bottom, background: pad }),
  );
  const plane = inputWidth * inputHeight;
  const data = new Float32Array(3 * plane);
  const scale = range === '0-1' ? 1 / 255 : 1;
  const channels = channelOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const from = channels[c];
    const offset = c * plane;
    for (let p = 0; p < plane; p++) data[offset + p] = hwc[p * 3 + from] * scale;
  }
  return { data, geometry: g };
}

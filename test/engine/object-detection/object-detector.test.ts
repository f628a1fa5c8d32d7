import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultlineError } from '../../../functions/engine/errors.ts';
import type { ObjectDetectorSpecInput } from '../../../functions/engine/object-detection/detector-spec.ts';
import { ObjectDetector } from '../../../functions/engine/object-detection/object-detector.ts';
import { renderDetections } from '../../../functions/engine/object-detection/render-detections.ts';
import { buildConstantOutput, buildRectangleFinder, FINDER_CLASSES, rectangleImage, v8Output } from './yolo-graphs.ts';

const finderSpec = (layout: 'v5' | 'v8' | 'auto'): ObjectDetectorSpecInput => ({
  input: { name: 'images', width: 160, height: 160 },
  output: { layout },
  classes: FINDER_CLASSES,
  thresholds: { confidence: 0.1, iou: 0.45 },
});

async function expectError(promise: Promise<unknown>, code: string, ...fragments: string[]): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FaultlineError);
  expect((error as FaultlineError).code).toBe(code);
  for (const f of fragments) expect((error as Error).message).toContain(f);
}

describe.each(['v5', 'v8'] as const)('ObjectDetector on a %s-layout graph whose boxes are known', (layout) => {
  let detector: ObjectDetector;
  beforeAll(async () => {
    // 'auto': the layout is read from the output's shape.
    detector = await ObjectDetector.load(buildRectangleFinder(layout, 160, 160), finderSpec('auto'), {
      session: { threads: 1 },
    });
  });
  afterAll(() => detector.release());

  it('reads the layout from the output shape', () => {
    expect(detector.validated.output).toEqual({ layout, anchors: 4 });
  });

  it('letterboxes a wide image (padding above and below) and answers boxes in its own pixels, NMS per class', async () => {
    const image = await rectangleImage(320, 160, { x: 60, y: 30, width: 60, height: 60 });
    const result = await detector.detect(image);
    // Letterbox: 320x160 -> 160x80 at scale 0.5, 40 rows of grey 114 above and below; the rectangle is 30x30 there.
    const mean = (30 * 30 + 160 * 80 * (114 / 255)) / (160 * 160);
    expect(result.image).toEqual({ width: 320, height: 160 });
    expect(result.objects).toHaveLength(2); // the shifted copy of class "dent" is suppressed, the fixed box under threshold
    const [dent, stain] = result.objects;
    expect(dent).toMatchObject({ label: 'dent', class_index: 1, x: 60, y: 30, width: 60, height: 60 });
    expect(dent.confidence).toBeCloseTo(mean, 3);
    expect(stain).toMatchObject({ label: 'stain', class_index: 2, x: 60, y: 30, width: 60, height: 60 });
    expect(stain.confidence).toBeCloseTo(0.8 * mean, 3);
    expect(result.model_type).toBe('onnx');
    expect(result.thresholds).toEqual({ confidence: 0.1, iou: 0.45 });
  });

  it('pads left and right for a tall image and maps back through the scale', async () => {
    const image = await rectangleImage(100, 200, { x: 20, y: 100, width: 40, height: 60 });
    const { objects } = await detector.detect(image);
    const dent = objects.find((o) => o.label === 'dent')!;
    // Scale 0.8: one input pixel is 1.25 source pixels, the most the edges can move by the resize.
    expect(Math.abs(dent.x - 20)).toBeLessThanOrEqual(1.25);
    expect(Math.abs(dent.y - 100)).toBeLessThanOrEqual(1.25);
    expect(Math.abs(dent.width - 40)).toBeLessThanOrEqual(2.5);
    expect(Math.abs(dent.height - 60)).toBeLessThanOrEqual(2.5);
  });

  it('applies the thresholds given per call', async () => {
    const image = await rectangleImage(320, 160, { x: 60, y: 30, width: 60, height: 60 });
    expect((await detector.detect(image, { confidence: 0.5 })).objects).toEqual([]);
    // At IoU threshold 1 nothing suppresses: the copy one input pixel to the right is kept too.
    const all = await detector.detect(image, { iou: 1 });
    expect(all.objects.map((o) => o.label)).toEqual(['dent', 'dent', 'stain']);
    expect(all.objects[1].x).toBe(62);
    await expectError(detector.detect(image, { confidence: 1.5 }), 'INVALID_OPTION', 'confidence');
    await expectError(detector.detect(image, { iou: 0 }), 'INVALID_OPTION', 'iou');
  });

  it('refuses what is not an image with the engine image errors', async () => {
    await expectError(detector.detect(Buffer.from('not an image')), 'UNSUPPORTED_IMAGE');
    await expectError(detector.detect(new Uint8Array(0)), 'EMPTY_IMAGE');
  });
});

describe('ObjectDetector box mapping', () => {
  // Input 64x64; a 128x64 image is scaled by 0.5 to 64x32 with 16 rows of padding above and below.
  const rows = [
    [60, 30, 20, 40, 0.9, 0.1], // x 50..70, y 10..50 on the input: leaves the image right, top and bottom
    [32, 5, 10, 4, 0.1, 0.8], // y 3..7: wholly on the padding
  ];
  const spec = { input: { name: 'images', width: 64, height: 64 }, classes: ['a', 'b'] };

  it('clips boxes to the image and drops those wholly on the padding', async () => {
    const { dims, values } = v8Output(rows);
    const detector = await ObjectDetector.load(buildConstantOutput(dims, values), spec);
    const { objects } = await detector.detect(await rectangleImage(128, 64, { x: 0, y: 0, width: 1, height: 1 }));
    await detector.release();
    expect(objects).toEqual([{ label: 'a', class_index: 0, confidence: 0.9, x: 100, y: 0, width: 28, height: 64 }]);
  });

  it('scales normalised box coordinates by the input size', async () => {
    const { dims, values } = v8Output(rows.map(([cx, cy, w, h, ...s]) => [cx / 64, cy / 64, w / 64, h / 64, ...s]));
    const detector = await ObjectDetector.load(buildConstantOutput(dims, values), {
      ...spec,
      output: { boxes: 'normalised' },
    });
    const { objects } = await detector.detect(await rectangleImage(128, 64, { x: 0, y: 0, width: 1, height: 1 }));
    await detector.release();
    expect(objects).toEqual([{ label: 'a', class_index: 0, confidence: 0.9, x: 100, y: 0, width: 28, height: 64 }]);
  });
});

describe('ObjectDetector model validation', () => {
  const spec = (over: Partial<ObjectDetectorSpecInput> = {}): ObjectDetectorSpecInput => ({
    input: { name: 'images', width: 64, height: 64 },
    classes: ['a', 'b', 'c'],
    ...over,
  });
  const zeros = (dims: number[]) => new Float32Array(dims.reduce((a, b) => a * b, 1));

  it('refuses a class count the output does not have, naming both shapes', async () => {
    const dims = [1, 6, 10]; // v8 for 2 classes
    await expectError(
      ObjectDetector.load(buildConstantOutput(dims, zeros(dims)), spec()),
      'MODEL_SPEC_MISMATCH',
      '"output0" has shape [1, 6, 10]',
      'v5 [1, N, 8] or v8 [1, 7, N] for 3 classes',
    );
  });

  it('refuses a layout named in the spec that the output does not have', async () => {
    const dims = [1, 7, 10]; // v8 for 3 classes
    await expectError(
      ObjectDetector.load(buildConstantOutput(dims, zeros(dims)), spec({ output: { layout: 'v5' } })),
      'MODEL_SPEC_MISMATCH',
      'v5 layout named in the spec needs 8 values per box',
    );
  });

  it('asks for the layout when the shape fits both', async () => {
    const dims = [1, 7, 8]; // v8 with 8 anchors, or v5 with 7
    const model = buildConstantOutput(dims, zeros(dims));
    await expectError(ObjectDetector.load(model, spec()), 'MODEL_SPEC_MISMATCH', 'name output.layout');
    const named = await ObjectDetector.load(model, spec({ output: { layout: 'v5' } }));
    expect(named.validated.output).toEqual({ layout: 'v5', anchors: 7 });
    await named.release();
  });

  it('refuses outputs that are not [1, a, b]', async () => {
    const dims = [1, 7, 2, 5];
    await expectError(
      ObjectDetector.load(buildConstantOutput(dims, zeros(dims)), spec()),
      'MODEL_SPEC_MISMATCH',
      'has shape [1, 7, 2, 5]',
      '3 dimensions',
    );
  });

  it('refuses an input size, name or output name the model does not have', async () => {
    const dims = [1, 7, 10];
    const model = buildConstantOutput(dims, zeros(dims), { inputDims: [1, 3, 32, 48] });
    await expectError(ObjectDetector.load(model, spec()), 'MODEL_SPEC_MISMATCH', '[1, 3, 32, 48]', '[1, 3, 64, 64]');
    await expectError(
      ObjectDetector.load(model, spec({ input: { name: 'pixels', width: 48, height: 32 } })),
      'MODEL_SPEC_MISMATCH',
      'no input "pixels"',
    );
    await expectError(
      ObjectDetector.load(model, spec({ input: { name: 'images', width: 48, height: 32 }, output: { name: 'boxes' } })),
      'MODEL_SPEC_MISMATCH',
      'no output "boxes"',
    );
    // Symbolic sizes take what the spec says.
    const dynamic = buildConstantOutput(dims, zeros(dims), { inputDims: ['batch', 3, 'height', 'width'] });
    const loaded = await ObjectDetector.load(dynamic, spec());
    await loaded.release();
  });

  it('refuses a file that is not ONNX, and an invalid spec before loading anything', async () => {
    await expectError(ObjectDetector.load(Buffer.from('PK\x03\x04 not a model'), spec()), 'MODEL_INVALID');
    await expectError(ObjectDetector.load(Buffer.alloc(0), { classes: [] }), 'MODEL_SPEC_INVALID', 'classes');
  });
});

describe('renderDetections', () => {
  it('draws each box in its class colour on a PNG no larger than maxSide', async () => {
    const image = await rectangleImage(3000, 1500, { x: 0, y: 0, width: 1, height: 1 });
    const png = await renderDetections(
      image,
      [{ label: 'dent', class_index: 1, confidence: 0.9, x: 1000, y: 500, width: 1000, height: 500 }],
      { maxSide: 1200 },
    );
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([1200, 600, 3]);
    // The box's bottom edge at the middle (x 600, y 400 after scaling by 0.4) is class 1's colour, #2c99a8.
    const p = (400 * 1200 + 600) * 3;
    expect([...data.subarray(p, p + 3)]).toEqual([0x2c, 0x99, 0xa8]);
    // Inside the box the image shows through (black).
    const q = (300 * 1200 + 600) * 3;
    expect([...data.subarray(q, q + 3)]).toEqual([0, 0, 0]);
  });
});

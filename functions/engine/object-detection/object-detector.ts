import * as ort from 'onnxruntime-node';
import { createSession, type SessionOptions } from '../onnx/create-session.ts';
import { InvalidOptionError, UploadedModelError } from '../errors.ts';
import type { ImageLimits } from '../image/decode-image.ts';
import { decodeYoloOutput } from './decode-output.ts';
import { parseObjectDetectorSpec, type ObjectDetectorSpec } from './detector-spec.ts';
import { toSourcePixels } from './letterbox.ts';
import { nonMaxSuppression } from './non-max-suppression.ts';
import { prepareInput } from './prepare-input.ts';
import { validateDetectorModel, type ValidatedDetector } from './validate-model.ts';

/** One object found, in the original image's pixels. */
export interface DetectedObject {
  label: string;
  class_index: number;
  confidence: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ObjectDetectionResult {
  objects: DetectedObject[];
  /** The thresholds applied (the spec's unless the call gave others). */
  thresholds: { confidence: number; iou: number };
  image: { width: number; height: number };
  /** Seconds spent on this image, all stages. */
  processing_time: number;
  timings_ms: { preprocess: number; inference: number; postprocess: number };
  model_type: 'onnx';
}

export interface DetectObjectsOptions {
  confidence?: number;
  iou?: number;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** A YOLO ONNX detector checked against its spec when loaded; detect() answers boxes in original image pixels. */
export class ObjectDetector {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly spec: ObjectDetectorSpec,
    readonly validated: ValidatedDetector,
    private readonly limits?: ImageLimits,
  ) {}

  /**
   * Loads a model (path or bytes) with its spec (parsed or raw JSON) and validates it by running it once. A file
   * that is not a loadable ONNX model is MODEL_INVALID; one that does not match the spec MODEL_SPEC_MISMATCH.
   */
  static async load(
    model: string | Uint8Array,
    spec: ObjectDetectorSpec | unknown,
    options: { session?: SessionOptions; limits?: ImageLimits } = {},
  ): Promise<ObjectDetector> {
    const parsed = parseObjectDetectorSpec(spec);
    let session: ort.InferenceSession;
    try {
      session = await createSession(model, options.session);
    } catch (cause) {
      throw new UploadedModelError(
        'MODEL_INVALID',
        `the model is not a loadable ONNX file: ${(cause as Error).message}`,
        {},
        { cause },
      );
    }
    try {
      return new ObjectDetector(session, parsed, await validateDetectorModel(session, parsed), options.limits);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  async detect(bytes: Uint8Array, options: DetectObjectsOptions = {}): Promise<ObjectDetectionResult> {
    const confidence = options.confidence ?? this.spec.thresholds.confidence;
    const iouThreshold = options.iou ?? this.spec.thresholds.iou;
    if (!(confidence > 0 && confidence < 1))
      throw new InvalidOptionError(`confidence must be between 0 and 1 (exclusive), got ${confidence}`);
    if (!(iouThreshold > 0 && iouThreshold <= 1))
      throw new InvalidOptionError(`iou must be in (0, 1], got ${iouThreshold}`);
    const t0 = performance.now();
    const { input } = this.spec;
    const prepared = await prepareInput(bytes, this.spec, this.limits);
    const t1 = performance.now();
    const tensor = new ort.Tensor('float32', prepared.data, [1, 3, input.height, input.width]);
    const { outputName, output } = this.validated;
    const result = await this.session.run({ [input.name]: tensor }, [outputName]);
    const t2 = performance.now();
    const raw = result[outputName] as ort.Tensor;
    // The geometry was checked on load; a model whose output changes shape with its input is caught here.
    const expected =
      output.layout === 'v5'
        ? [1, output.anchors, 5 + this.spec.classes.length]
        : [1, 4 + this.spec.classes.length, output.anchors];
    if (raw.dims.length !== 3 || raw.dims.some((d, i) => d !== expected[i]))
      throw new UploadedModelError(
        'MODEL_SPEC_MISMATCH',
        `output "${outputName}" had shape [${raw.dims.join(', ')}], not [${expected.join(', ')}] as when validated`,
        { output: outputName, shape: [...raw.dims], expected },
      );
    const boxScale = this.spec.output.boxes === 'normalised' ? { x: input.width, y: input.height } : { x: 1, y: 1 };
    const candidates = decodeYoloOutput(
      raw.data as Float32Array,
      output,
      this.spec.classes.length,
      confidence,
      boxScale,
    );
    const kept = nonMaxSuppression(candidates, iouThreshold, this.spec.maxDetections);
    const objects: DetectedObject[] = [];
    for (const c of kept) {
      const b = toSourcePixels(c, prepared.geometry);
      if (b.x2 - b.x1 <= 0 || b.y2 - b.y1 <= 0) continue; // wholly on the padding
      objects.push({
        label: this.spec.classes[c.classIndex],
        class_index: c.classIndex,
        confidence: round(c.score, 4),
        x: round(b.x1, 1),
        y: round(b.y1, 1),
        width: round(b.x2 - b.x1, 1),
        height: round(b.y2 - b.y1, 1),
      });
    }
    const t3 = performance.now();
    return {
      objects,
      thresholds: { confidence, iou: iouThreshold },
      image: { width: prepared.geometry.sourceWidth, height: prepared.geometry.sourceHeight },
      processing_time: round((t3 - t0) / 1000, 4),
      timings_ms: { preprocess: round(t1 - t0, 2), inference: round(t2 - t1, 2), postprocess: round(t3 - t2, 2) },
      model_type: 'onnx',
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

import * as ort from 'onnxruntime-node';
import { UploadedModelError } from '../errors.ts';
import type { ImageInfo } from '../image/decode-image.ts';
import { createSession, type SessionOptions } from '../onnx/create-session.ts';
import { inspectOnnxModel, type OnnxModelSummary } from '../onnx/inspect-model.ts';
import type { ClassifierSpec } from './classifier-spec.ts';
import { inputDims, prepareClassifierInput } from './prepare-input.ts';
import { type HeadResult, headShapeProblems, type OutputTensor, readHeads } from './read-heads.ts';

const FLOAT = 1;

export interface Classification {
  heads: Record<string, HeadResult>;
  image: ImageInfo;
  timings_ms: { preprocess: number; inference: number; postprocess: number };
}

/** What loading checked: the model's header and the outputs' shapes of the one run. */
export interface ClassifierCheck {
  model: OnnxModelSummary;
  outputShapes: Record<string, number[]>;
}

/**
 * An uploaded ONNX image classifier with its spec. `load` checks the file against the spec (ONNX, opset, the input's
 * name, element type and shape) and runs it once on a blank image, comparing each head's output shape with the spec:
 * a model that loads is one that answers every head. No fallback: anything wrong is an UploadedModelError.
 */
export class OnnxClassifier {
  private constructor(
    readonly spec: ClassifierSpec,
    readonly check: ClassifierCheck,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(bytes: Uint8Array, spec: ClassifierSpec, options: SessionOptions = {}): Promise<OnnxClassifier> {
    const model = inspectOnnxModel(bytes);
    const input = model.inputs.find((i) => i.name === spec.input.name);
    if (!input)
      throw mismatch(
        `the model has no input named ${spec.input.name} (inputs: ${model.inputs.map((i) => `${i.name} [${i.dims.join(', ')}]`).join('; ')})`,
      );
    if (model.inputs.length > 1)
      throw mismatch(
        `the model has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(', ')}); an image classifier takes one`,
      );
    if (input.elemType !== FLOAT)
      throw mismatch(`input ${input.name} is not float32 (ONNX element type ${input.elemType})`);
    const wanted = inputDims(spec.input);
    const fits =
      input.dims.length === 4 &&
      input.dims.every((d, i) => typeof d === 'string' || d === wanted[i] || (i === 0 && d === 1));
    if (!fits)
      throw mismatch(
        `input ${input.name} has shape [${input.dims.join(', ')}]; the spec (${spec.input.layout}, ${spec.input.width}x${spec.input.height}) feeds [${wanted.join(', ')}]`,
      );
    let session: ort.InferenceSession;
    try {
      session = await createSession(bytes, options);
    } catch (cause) {
      throw new UploadedModelError(
        'MODEL_INVALID',
        `onnxruntime cannot load the model: ${(cause as Error).message.slice(0, 500)}`,
        { opset: model.opset },
        { cause },
      );
    }
    const classifier = new OnnxClassifier(spec, { model, outputShapes: {} }, session);
    try {
      const outputs = await classifier.run(new Float32Array(wanted.reduce((a, b) => a * b, 1)));
      const shapes = new Map(Object.entries(outputs).map(([name, t]) => [name, [...t.dims]]));
      const problems = headShapeProblems(spec, shapes);
      if (problems.length > 0) throw mismatch(problems.join('; '), { problems });
      classifier.check.outputShapes = Object.fromEntries(shapes);
      return classifier;
    } catch (error) {
      await session.release();
      if (error instanceof UploadedModelError) throw error;
      throw new UploadedModelError(
        'MODEL_INVALID',
        `the model fails on a ${spec.input.width}x${spec.input.height} input: ${(error as Error).message.slice(0, 500)}`,
        {},
        { cause: error },
      );
    }
  }

  /** Runs the model on a prepared input; every output is read (the spec may name any of them). */
  async run(input: Float32Array): Promise<Record<string, OutputTensor>> {
    const feeds = { [this.spec.input.name]: new ort.Tensor('float32', input, inputDims(this.spec.input)) };
    const results = await this.session.run(feeds);
    const outputs: Record<string, OutputTensor> = {};
    for (const [name, tensor] of Object.entries(results)) {
      if (tensor.type !== 'float32') {
        tensor.dispose();
        continue;
      }
      outputs[name] = { dims: tensor.dims, data: tensor.data as Float32Array };
    }
    return outputs;
  }

  /** Classifies one image: every head's label(s), confidence and class scores, with the stages' times. */
  async classify(bytes: Uint8Array): Promise<Classification> {
    const t0 = performance.now();
    const { data, info } = await prepareClassifierInput(bytes, this.spec.input);
    const t1 = performance.now();
    const outputs = await this.run(data);
    const t2 = performance.now();
    const heads = readHeads(this.spec, outputs);
    const t3 = performance.now();
    return {
      heads,
      image: info,
      timings_ms: { preprocess: ms(t1 - t0), inference: ms(t2 - t1), postprocess: ms(t3 - t2) },
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

const ms = (v: number): number => Number(v.toFixed(2));

const mismatch = (message: string, details: Record<string, unknown> = {}) =>
  new UploadedModelError('MODEL_SPEC_MISMATCH', `the model does not match its spec: ${message}`, details);

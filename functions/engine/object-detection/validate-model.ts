import * as ort from 'onnxruntime-node';
import { UploadedModelError } from '../errors.ts';
import { outputGeometry, type OutputGeometry } from './decode-output.ts';
import type { ObjectDetectorSpec } from './detector-spec.ts';

const shapeText = (dims: readonly (number | string)[]) => `[${dims.join(', ')}]`;

/** The checks a model must pass against its spec, and what they found. */
export interface ValidatedDetector {
  outputName: string;
  output: OutputGeometry;
}

const fits = (dim: number | string | undefined, want: number) => typeof dim !== 'number' || dim === want || dim < 0;

/**
 * Checks a loaded model against its spec: the input by name, type and shape, then one run on a blank input whose
 * output must be a YOLO layout for the spec's class count. Every mismatch names the tensor and the shapes.
 */
export async function validateDetectorModel(
  session: ort.InferenceSession,
  spec: ObjectDetectorSpec,
): Promise<ValidatedDetector> {
  const { name: inputName, width, height } = spec.input;
  const wanted = [1, 3, height, width];
  const mismatch = (message: string, details: Record<string, unknown>) =>
    new UploadedModelError('MODEL_SPEC_MISMATCH', message, details);
  if (!session.inputNames.includes(inputName))
    throw mismatch(`the model has no input "${inputName}" (its inputs: ${session.inputNames.join(', ')})`, {
      input: inputName,
      inputs: session.inputNames,
    });
  if (session.inputNames.length !== 1)
    throw mismatch(`a YOLO detector takes one input; this model takes ${session.inputNames.join(', ')}`, {
      inputs: session.inputNames,
    });
  const meta = session.inputMetadata.find((m) => m.name === inputName);
  if (meta?.isTensor) {
    if (meta.type !== 'float32')
      throw mismatch(`input "${inputName}" is of type ${meta.type}; a YOLO detector takes float32`, {
        input: inputName,
        type: meta.type,
      });
    const dims = meta.shape;
    if (dims.length !== 4 || !wanted.every((w, i) => fits(dims[i], w)))
      throw mismatch(
        `input "${inputName}" has shape ${shapeText(dims)}; the spec needs ${shapeText(wanted)} (1 image, 3 channels, height x width)`,
        { input: inputName, shape: [...dims], expected: wanted },
      );
  }
  const outputName = spec.output.name ?? session.outputNames[0];
  if (!session.outputNames.includes(outputName))
    throw mismatch(`the model has no output "${outputName}" (its outputs: ${session.outputNames.join(', ')})`, {
      output: outputName,
      outputs: session.outputNames,
    });
  let result: ort.InferenceSession.OnnxValueMapType;
  try {
    const blank = new ort.Tensor('float32', new Float32Array(3 * width * height), wanted);
    result = await session.run({ [inputName]: blank }, [outputName]);
  } catch (cause) {
    throw new UploadedModelError(
      'MODEL_SPEC_MISMATCH',
      `the model failed on a ${shapeText(wanted)} input: ${(cause as Error).message}`,
      { input: inputName, shape: wanted },
      { cause },
    );
  }
  const output = result[outputName] as ort.Tensor;
  if (output.type !== 'float32')
    throw mismatch(`output "${outputName}" is of type ${output.type}; a YOLO detector gives float32`, {
      output: outputName,
      type: output.type,
    });
  return { outputName, output: outputGeometry(output.dims, spec.classes.length, spec.output.layout, outputName) };
}

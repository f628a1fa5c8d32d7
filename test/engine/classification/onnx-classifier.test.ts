import { describe, expect, it } from 'vitest';
import { classifierSpecSchema } from '../../../functions/engine/classification/classifier-spec.ts';
import { OnnxClassifier } from '../../../functions/engine/classification/onnx-classifier.ts';
import { rgbToTensor } from '../../../functions/engine/classification/prepare-input.ts';
import { readHead, softmax } from '../../../functions/engine/classification/read-heads.ts';
import { FaultlineError } from '../../../functions/engine/errors.ts';
import { buildTestClassifier, colourPng, testClassifierSpec } from '../../helpers/classifier-models.ts';

const spec = () => classifierSpecSchema.parse(testClassifierSpec());

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(FaultlineError);
    return error as FaultlineError;
  }
  throw new Error('expected an error');
}

describe('classifier spec', () => {
  it('fills the defaults and accepts heads as slices of one output', () => {
    const s = spec();
    expect(s.input.layout).toBe('NCHW');
    expect(s.input.channelOrder).toBe('RGB');
    expect(s.input.normalise.mean).toEqual([0, 0, 0]);
    expect(s.heads[0].scores).toBe('logits');
  });

  it.each([
    ['a slice whose width is not the class count', (x: any) => (x.heads[1].slice = { start: 0, end: 3 }), 'slice'],
    ['overlapping slices', (x: any) => (x.heads[2].slice = { start: 1, end: 4 }), 'overlaps'],
    ['two heads on one output without slices', (x: any) => delete x.heads[1].slice, 'each needs a slice'],
    ['a head named twice', (x: any) => (x.heads[1].name = 'skin_type'), 'named twice'],
    ['a threshold on a softmax head', (x: any) => (x.heads[0].threshold = 0.3), 'no threshold'],
    ['a head name that is not an identifier', (x: any) => (x.heads[0].name = 'Skin Type'), 'identifier'],
    ['repeated classes', (x: any) => (x.heads[0].classes = ['a', 'a', 'b']), 'repeat'],
    ['an unknown field', (x: any) => (x.input.colour = 'rgb'), 'colour'],
    ['no heads', (x: any) => (x.heads = []), 'heads'],
  ])('refuses %s', (_, damage, words) => {
    const s: any = testClassifierSpec();
    damage(s);
    const result = classifierSpecSchema.safeParse(s);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error!.issues)).toContain(words);
  });
});

describe('reading heads', () => {
  it('softmax picks one label; sigmoid every class over the threshold', () => {
    const s = spec();
    const soft = readHead(s.heads[0], Float32Array.from([1, 2, 3]));
    const p = softmax([1, 2, 3]);
    expect(soft.label).toBe('oily');
    expect(soft.labels).toEqual(['oily']);
    expect(soft.confidence).toBeCloseTo(p[2], 5);
    expect(soft.scores.dry).toBeCloseTo(p[0], 5);
    const sig = readHead(s.heads[2], Float32Array.from([2, -2, 1]));
    expect(sig.labels).toEqual(['acne', 'redness']);
    const none = readHead(s.heads[2], Float32Array.from([-2, -3, -1]));
    expect(none.labels).toEqual([]);
    expect(none.label).toBeNull();
  });

  it('lays out channels by the spec (BGR, NHWC, mean and std)', () => {
    const rgb = Uint8Array.from([255, 0, 51, 0, 255, 0]); // 2x1 image
    const input = {
      name: 'x',
      width: 2,
      height: 1,
      layout: 'NHWC' as const,
      channelOrder: 'BGR' as const,
      resize: 'stretch' as const,
      normalise: {
        scale: 1 / 255,
        mean: [0.5, 0.5, 0.5] as [number, number, number],
        std: [0.5, 0.5, 0.5] as [number, number, number],
      },
    };
    const t = rgbToTensor(rgb, input);
    // pixel 0 BGR = (51, 0, 255) -> (0.2-0.5)/0.5, -1, 1
    expect(Array.from(t.subarray(0, 3)).map((v) => Number(v.toFixed(4)))).toEqual([-0.6, -1, 1]);
    const nchw = rgbToTensor(rgb, { ...input, layout: 'NCHW', channelOrder: 'RGB' });
    expect(Array.from(nchw).map((v) => Number(v.toFixed(4)))).toEqual([1, -1, -1, 1, -0.6, -1]);
  });
});

describe('OnnxClassifier', () => {
  it('answers every head of the test model as its weights say', async () => {
    const classifier = await OnnxClassifier.load(buildTestClassifier(), spec());
    expect(classifier.check.outputShapes).toEqual({ skin: [1, 3], shared: [1, 5] });
    expect(classifier.check.model.opset).toBe(13);
    const red = await classifier.classify(await colourPng(255, 0, 0));
    expect(red.heads.skin_type.label).toBe('dry');
    expect(red.heads.skin_type.scores.dry).toBeCloseTo(softmax([4, 0, 0])[0], 4);
    expect(red.heads.hair_type.label).toBe('straight');
    expect(red.heads.conditions_detected.labels).toEqual(['acne', 'redness']);
    const green = await classifier.classify(await colourPng(0, 255, 0));
    expect(green.heads.skin_type.label).toBe('normal');
    expect(green.heads.hair_type.label).toBe('curly');
    expect(green.heads.conditions_detected.labels).toEqual(['dryness']);
    const blue = await classifier.classify(await colourPng(0, 0, 255));
    expect(blue.heads.conditions_detected.labels).toEqual([]);
    await classifier.release();
  });

  it('refuses a spec whose slice runs past the output, naming the head and the shapes', async () => {
    const e = await codeOf(OnnxClassifier.load(buildTestClassifier({ sharedColumns: 4 }), spec()));
    expect(e.code).toBe('MODEL_SPEC_MISMATCH');
    expect(e.message).toContain('head conditions_detected');
    expect(e.message).toContain('[1, 4]');
  });

  it('refuses an input of another size, name or a missing output', async () => {
    const size = await codeOf(OnnxClassifier.load(buildTestClassifier({ size: 32 }), spec()));
    expect(size.code).toBe('MODEL_SPEC_MISMATCH');
    expect(size.message).toContain('[batch, 3, 32, 32]');
    expect(size.message).toContain('[1, 3, 16, 16]');
    const name = await codeOf(OnnxClassifier.load(buildTestClassifier({ inputName: 'pixels' }), spec()));
    expect(name.message).toContain('no input named image');
    const s = spec();
    s.heads[0].output = 'skin_logits';
    const output = await codeOf(OnnxClassifier.load(buildTestClassifier(), s));
    expect(output.message).toContain('head skin_type: the model has no output skin_logits');
  });

  it('refuses what is not ONNX, a TFLite file and an old opset', async () => {
    const text = await codeOf(OnnxClassifier.load(new TextEncoder().encode('hello, not a model at all'), spec()));
    expect(text.code).toBe('MODEL_NOT_ONNX');
    const tflite = new Uint8Array(64);
    tflite.set(new TextEncoder().encode('TFL3'), 4);
    const t = await codeOf(OnnxClassifier.load(tflite, spec()));
    expect(t.code).toBe('MODEL_FORMAT_UNSUPPORTED');
    expect(t.message).toContain('no maintained TFLite runtime');
    const old = await codeOf(OnnxClassifier.load(buildTestClassifier({ opset: 5 }), spec()));
    expect(old.code).toBe('MODEL_INVALID');
    expect(old.message).toContain('opset 5');
  });
});

import { describe, expect, it } from 'vitest';
import { FaultlineError } from '../../../functions/engine/errors.ts';
import { parseObjectDetectorSpec } from '../../../functions/engine/object-detection/detector-spec.ts';
import { letterboxGeometry, toSourcePixels } from '../../../functions/engine/object-detection/letterbox.ts';

const minimal = { input: { name: 'images', width: 640, height: 640 }, classes: ['person', 'car'] };

function problems(value: unknown): string[] {
  try {
    parseObjectDetectorSpec(value);
  } catch (error) {
    expect((error as FaultlineError).code).toBe('MODEL_SPEC_INVALID');
    return (error as FaultlineError).details.problems as string[];
  }
  throw new Error('the spec was accepted');
}

describe('parseObjectDetectorSpec', () => {
  it('fills the Ultralytics defaults', () => {
    expect(parseObjectDetectorSpec(minimal)).toEqual({
      input: { name: 'images', width: 640, height: 640, channelOrder: 'rgb', range: '0-1', padValue: 114 },
      output: { layout: 'auto', boxes: 'pixels' },
      classes: ['person', 'car'],
      thresholds: { confidence: 0.25, iou: 0.45 },
      maxDetections: 300,
    });
  });

  it('names every problem with its path', () => {
    expect(problems({ ...minimal, classes: ['a', 'a'] })).toEqual(['classes: class names must be unique']);
    expect(problems({ ...minimal, classes: [] })[0]).toMatch(/^classes: /);
    expect(problems({ ...minimal, thresholds: { confidence: 1.5 } })[0]).toMatch(/^thresholds\.confidence: /);
    expect(problems({ ...minimal, input: { ...minimal.input, width: 8 } })[0]).toMatch(/^input\.width: /);
    expect(problems({ ...minimal, output: { layout: 'v7' } })[0]).toMatch(/^output\.layout: /);
    expect(problems({ ...minimal, extra: true })[0]).toMatch(/extra/);
    expect(problems(null)[0]).toMatch(/^\(spec\): /);
    expect(problems({ classes: ['a'] })[0]).toMatch(/^input: /);
  });
});

describe('letterboxGeometry', () => {
  it('matches Ultralytics: aspect kept, the odd padding pixel after the image', () => {
    expect(letterboxGeometry(1280, 720, 640, 640)).toMatchObject({
      resizedWidth: 640,
      resizedHeight: 360,
      left: 0,
      right: 0,
      top: 140,
      bottom: 140,
    });
    expect(letterboxGeometry(100, 33, 64, 64)).toMatchObject({
      resizedWidth: 64,
      resizedHeight: 21,
      top: 21,
      bottom: 22,
    });
  });

  it('maps input corners back to source pixels, clipped', () => {
    const g = letterboxGeometry(200, 100, 100, 100); // scale 0.5, 25 rows of padding above
    expect(toSourcePixels({ x1: 10, y1: 35, x2: 20, y2: 45 }, g)).toEqual({ x1: 20, y1: 20, x2: 40, y2: 40 });
    expect(toSourcePixels({ x1: -5, y1: 0, x2: 120, y2: 99 }, g)).toEqual({ x1: 0, y1: 0, x2: 200, y2: 100 });
  });
});

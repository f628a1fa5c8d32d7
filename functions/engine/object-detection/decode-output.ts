import { UploadedModelError } from '../errors.ts';
import type { YoloLayout } from './detector-spec.ts';
import type { Candidate } from './non-max-suppression.ts';

/** What a YOLO output holds, read from its shape. */
export interface OutputGeometry {
  layout: YoloLayout;
  /** Boxes the model proposes (anchors / grid cells). */
  anchors: number;
}

const shapeText = (dims: readonly (number | string)[]) => `[${dims.join(', ')}]`;

/**
 * Reads the layout from the output's shape: v5 is [1, N, 5 + C], v8 is [1, 4 + C, N]. When both fit (N = 4 + C with
 * 5 + C columns), the spec must name the layout; a shape neither fits is refused naming both shapes expected.
 */
export function outputGeometry(
  dims: readonly number[],
  classes: number,
  layout: 'auto' | YoloLayout,
  outputName: string,
): OutputGeometry {
  const expected = `v5 [1, N, ${5 + classes}] or v8 [1, ${4 + classes}, N] for ${classes} classes`;
  const mismatch = (why: string) =>
    new UploadedModelError(
      'MODEL_SPEC_MISMATCH',
      `output "${outputName}" has shape ${shapeText(dims)}: ${why} (expected ${expected})`,
      { output: outputName, shape: [...dims], classes, layout },
    );
  if (dims.length !== 3) throw mismatch(`a YOLO output has 3 dimensions, this one ${dims.length}`);
  if (dims[0] !== 1) throw mismatch('the batch dimension must be 1');
  const fitsV5 = dims[2] === 5 + classes && dims[1] > 0;
  const fitsV8 = dims[1] === 4 + classes && dims[2] > 0;
  if (layout === 'v5') {
    if (!fitsV5) throw mismatch(`the v5 layout named in the spec needs ${5 + classes} values per box`);
    return { layout, anchors: dims[1] };
  }
  if (layout === 'v8') {
    if (!fitsV8) throw mismatch(`the v8 layout named in the spec needs ${4 + classes} rows`);
    return { layout, anchors: dims[2] };
  }
  if (fitsV5 && fitsV8) throw mismatch('it fits both layouts; name output.layout ("v5" or "v8") in the spec');
  if (fitsV5) return { layout: 'v5', anchors: dims[1] };
  if (fitsV8) return { layout: 'v8', anchors: dims[2] };
  throw mismatch('it fits neither layout; check the class count in the spec');
}

/**
 * The boxes whose best class scores at least `confidence`, as corners on the model's input. v5 scores are
 * objectness x class score; v8 scores are the class scores. `boxScale` turns normalised coordinates into pixels.
 */
export function decodeYoloOutput(
  data: Float32Array,
  geometry: OutputGeometry,
  classes: number,
  confidence: number,
  boxScale: { x: number; y: number } = { x: 1, y: 1 },
): Candidate[] {
  const { anchors, layout } = geometry;
  // Best class per anchor, read in memory order: anchor-major for v5, class-major (one row per class) for v8.
  const bestScore = new Float32Array(anchors).fill(-Infinity);
  const bestClass = new Int32Array(anchors);
  let box: (a: number, k: number) => number;
  if (layout === 'v5') {
    const stride = 5 + classes;
    for (let a = 0, base = 0; a < anchors; a++, base += stride) {
      const objectness = data[base + 4];
      if (!(objectness >= confidence)) continue; // also skips NaN
      let best = -Infinity;
      let bestIndex = 0;
      for (let c = 0; c < classes; c++) {
        const s = data[base + 5 + c];
        if (s > best) {
          best = s;
          bestIndex = c;
        }
      }
      bestScore[a] = objectness * best;
      bestClass[a] = bestIndex;
    }
    box = (a, k) => data[a * stride + k];
  } else {
    for (let c = 0; c < classes; c++) {
      const row = (4 + c) * anchors;
      for (let a = 0; a < anchors; a++) {
        const s = data[row + a];
        if (s > bestScore[a]) {
          bestScore[a] = s;
          bestClass[a] = c;
        }
      }
    }
    box = (a, k) => data[k * anchors + a];
  }
  const out: Candidate[] = [];
  for (let a = 0; a < anchors; a++) {
    const score = bestScore[a];
    if (!(score >= confidence)) continue;
    const cx = box(a, 0) * boxScale.x;
    const cy = box(a, 1) * boxScale.y;
    const w = box(a, 2) * boxScale.x;
    const h = box(a, 3) * boxScale.y;
    if (!Number.isFinite(cx + cy + w + h) || w <= 0 || h <= 0) continue;
    out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, classIndex: bestClass[a] });
  }
  return out;
}

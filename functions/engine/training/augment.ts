/**
 * Augmented views of normal images for models trained on very few of them. Only transforms that the product
 * allows may be used (a part that is never upside down must not learn its flipped self as normal), hence a setting.
 */
export const AUGMENTATIONS = ['hflip', 'vflip', 'shift', 'rotate'] as const;
export type Augmentation = (typeof AUGMENTATIONS)[number];

/** Shift of the 'shift' views, as a share of the input side. */
const SHIFT_SHARE = 0.04;
/** Angle of the 'rotate' views, in degrees either way. */
const ROTATE_DEGREES = 8;

/** One augmented view: where each output pixel comes from in the original (x, y in input pixels). */
export interface AugmentedView {
  name: string;
  source: (x: number, y: number, size: number) => [number, number];
}

/** The views each allowed transform adds: a flip one, a shift or a rotation two (either way). */
export function augmentedViews(allowed: readonly Augmentation[]): AugmentedView[] {
  const views: AugmentedView[] = [];
  const set = new Set(allowed);
  if (set.has('hflip')) views.push({ name: 'hflip', source: (x, y, s) => [s - 1 - x, y] });
  if (set.has('vflip')) views.push({ name: 'vflip', source: (x, y, s) => [x, s - 1 - y] });
  if (set.has('shift'))
    for (const sign of [1, -1])
      views.push({
        name: `shift${sign > 0 ? '+' : '-'}`,
        source: (x, y, s) => [x - sign * Math.round(s * SHIFT_SHARE), y - sign * Math.round(s * SHIFT_SHARE)],
      });
  if (set.has('rotate'))
    for (const sign of [1, -1]) {
      const a = (sign * ROTATE_DEGREES * Math.PI) / 180;
      const cos = Math.cos(a);
      const sin = Math.sin(a);
      views.push({
        name: `rotate${sign > 0 ? '+' : '-'}`,
        source: (x, y, s) => {
          const c = (s - 1) / 2;
          return [c + cos * (x - c) + sin * (y - c), c - sin * (x - c) + cos * (y - c)];
        },
      });
    }
  return views;
}

/**
 * Writes the view of one CHW image (3 x size x size, normalised) into `out` at `outOffset`: bilinear sampling, edges
 * repeated where the view looks past the image.
 */
export function renderView(
  input: Float32Array,
  inOffset: number,
  size: number,
  view: AugmentedView,
  out: Float32Array,
  outOffset: number,
): void {
  const plane = size * size;
  const clamp = (v: number) => Math.min(size - 1, Math.max(0, v));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [sx, sy] = view.source(x, y, size);
      const cx = clamp(sx);
      const cy = clamp(sy);
      const x0 = Math.floor(cx);
      const y0 = Math.floor(cy);
      const x1 = Math.min(size - 1, x0 + 1);
      const y1 = Math.min(size - 1, y0 + 1);
      const fx = cx - x0;
      const fy = cy - y0;
      for (let c = 0; c < 3; c++) {
        const base = inOffset + c * plane;
        const top = input[base + y0 * size + x0] * (1 - fx) + input[base + y0 * size + x1] * fx;
        const bottom = input[base + y1 * size + x0] * (1 - fx) + input[base + y1 * size + x1] * fx;
        out[outOffset + c * plane + y * size + x] = top * (1 - fy) + bottom * fy;
      }
    }
  }
}

/** For each patch of the view's feature grid, the patch of the original it shows (for the evidence's nearest normal). */
export function viewPatchSources(view: AugmentedView, grid: number, size: number): Uint32Array {
  const stride = size / grid;
  const out = new Uint32Array(grid * grid);
  const cell = (v: number) => Math.min(grid - 1, Math.max(0, Math.floor(v / stride)));
  for (let gy = 0; gy < grid; gy++)
    for (let gx = 0; gx < grid; gx++) {
      const [sx, sy] = view.source((gx + 0.5) * stride, (gy + 0.5) * stride, size);
      out[gy * grid + gx] = cell(sy) * grid + cell(sx);
    }
  return out;
}
